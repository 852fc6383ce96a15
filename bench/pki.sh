# Sourced by bench scripts: make_pki DIR makes a CA and a certificate for 127.0.0.1 in DIR (ca.pem, server.pem,
# server.key), readable by the unprivileged agent (the CA) and made for this run only.
make_pki() {
    local dir=$1
    mkdir -p "$dir"
    (
        cd "$dir"
        ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
        openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 2 -subj "/CN=personalize-tail bench CA" \
            -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
        openssl req -new "${ec[@]}" -keyout server.key -out server.csr -subj /CN=127.0.0.1 2>/dev/null
        printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n' > server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
            -extfile server.ext 2>/dev/null
        chmod 0755 . && chmod 0644 ca.pem
    )
}
