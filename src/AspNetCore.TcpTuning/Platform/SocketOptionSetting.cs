namespace AspNetCore.TcpTuning.Platform;

/// <summary>One option to set, in the unit the socket API takes: seconds, milliseconds, bytes or 0/1.</summary>
/// <param name="Option">The option.</param>
/// <param name="Value">The integer value.</param>
/// <param name="Text">The value of string or structure options (the congestion-control name, a raw option's bytes).</param>
/// <param name="Level">A raw option's level number.</param>
/// <param name="Name">A raw option's number.</param>
/// <param name="Key">A raw option's configuration key below the profile (<c>RawOptions:0</c>); other options' keys follow from the option.</param>
internal readonly record struct SocketOptionSetting(TcpOption Option, int Value, byte[]? Text = null, int Level = 0, int Name = 0, string? Key = null)
{
    /// <summary>The configuration key below the profile.</summary>
    public string KeyBelowProfile => Key ?? TcpOptionKeys.Of(Option);
}
