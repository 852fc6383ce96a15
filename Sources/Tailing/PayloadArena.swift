import PinnedMemory

/// Memory for the lines a ``ContainerLogDecoder`` has to rebuild (a Docker `log` string unescaped, pieces of a
/// partial line joined): a ``PinnedArena``, so the lines stay valid until it is reset and a chunk of decoded lines
/// can be mapped together as framed lines are. Its owner bounds it: when ``PinnedArena/hasRoom(_:)`` says a line
/// does not fit, the owner hands out the chunk so far, resets, and decodes again.
public typealias PayloadArena = PinnedArena
