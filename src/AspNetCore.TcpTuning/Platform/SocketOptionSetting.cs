namespace AspNetCore.TcpTuning.Platform;

/// <summary>One option to set, in the unit the socket API takes: seconds, milliseconds, bytes or 0/1.</summary>
/// <param name="Option">The option.</param>
/// <param name="Value">The integer value.</param>
/// <param name="Text">The value of string options (the congestion-control name, NUL-free ASCII).</param>
internal readonly record struct SocketOptionSetting(TcpOption Option, int Value, byte[]? Text = null);
