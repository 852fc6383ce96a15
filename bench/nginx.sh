# Sourced by bench scripts: the nginx sink that answers `200 {}` to every request (one worker, in the foreground).
#
# nginx_conf PREFIX PKI PORT TLS_PORT [EXTRA]: writes PREFIX/nginx.conf (start it with `nginx -p PREFIX -c
# PREFIX/nginx.conf`), listening on 127.0.0.1:PORT over http (not at all when PORT is empty) and on
# 127.0.0.1:TLS_PORT over https with make_pki's certificate in PKI. EXTRA goes inside `http { }`.
nginx_conf() {
    local prefix=$1 pki=$2 port=$3 tlsport=$4 extra=${5:-}
    mkdir -p "$prefix/logs"
    cat > "$prefix/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
error_log $prefix/logs/error.log warn;
pid $prefix/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 75s;
    client_body_buffer_size 1m;
    client_body_temp_path $prefix/body;
    proxy_temp_path $prefix/proxy; fastcgi_temp_path $prefix/fastcgi;
    uwsgi_temp_path $prefix/uwsgi; scgi_temp_path $prefix/scgi;
    ssl_protocols TLSv1.2 TLSv1.3;
$extra
    server {
        ${port:+listen 127.0.0.1:$port;}
        listen 127.0.0.1:$tlsport ssl;
        ssl_certificate $pki/server.pem;
        ssl_certificate_key $pki/server.key;
        location / { default_type application/json; return 200 '{}'; }
    }
}
EOF
}

# wait_ports PORT...: until 127.0.0.1 accepts connections on each (at most 5 s each).
wait_ports() {
    local p
    for p in "$@"; do
        for _ in $(seq 100); do
            python3 -c "import socket; socket.create_connection(('127.0.0.1',$p),0.1)" 2>/dev/null && break
            sleep 0.05
        done
    done
}
