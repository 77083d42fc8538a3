namespace AspNetCore.TcpTuning;

/// <summary>When a <see cref="RawSocketOption"/> is set.</summary>
public enum RawSocketOptionPhase
{
    /// <summary>On each accepted socket, before Kestrel sees the connection.</summary>
    Accepted,

    /// <summary>On the listen socket, between bind and listen.</summary>
    Listen,
}
