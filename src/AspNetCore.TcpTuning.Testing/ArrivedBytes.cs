namespace AspNetCore.TcpTuning.Testing;

/// <summary>One read of a response: when it completed, counted from the request's send, and how many bytes it brought.</summary>
/// <param name="Elapsed">The time since the request was sent.</param>
/// <param name="Bytes">The bytes the read returned (HTTP framing included).</param>
public readonly record struct ArrivedBytes(TimeSpan Elapsed, int Bytes);
