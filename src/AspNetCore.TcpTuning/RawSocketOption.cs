namespace AspNetCore.TcpTuning;

/// <summary>
/// A socket option the typed settings lack, set as given: the escape hatch for platform options such as
/// <c>TCP_MAXSEG</c> or <c>SO_BUSY_POLL</c>.
/// </summary>
/// <example>
/// In appsettings.json, below an endpoint:
/// <code>"RawOptions": [ { "Level": "Tcp", "Name": "TCP_MAXSEG", "Value": 1200, "Phase": "Accepted" } ]</code>
/// </example>
public sealed class RawSocketOption
{
    /// <summary><c>Tcp</c>, <c>Socket</c>, <c>IP</c> or <c>IPv6</c>, or the level's number on this platform.</summary>
    public string? Level { get; set; }

    /// <summary>The option's name as the platform's headers spell it (<c>TCP_MAXSEG</c>, <c>SO_BUSY_POLL</c>), or its number.</summary>
    public string? Name { get; set; }

    /// <summary>The value, as a native-endian 32-bit integer. Give this or <see cref="Bytes"/>.</summary>
    public int? Value { get; set; }

    /// <summary>The value as bytes, written in hexadecimal (<c>"01000000"</c>), for options that take a structure. Give this or <see cref="Value"/>.</summary>
    public string? Bytes { get; set; }

    /// <summary>When the option is set.</summary>
    /// <remarks>Defaults to <see cref="RawSocketOptionPhase.Accepted"/>.</remarks>
    public RawSocketOptionPhase? Phase { get; set; }
}
