using AspNetCore.TcpTuning.Configuration;

namespace AspNetCore.TcpTuning;

/// <summary>
/// Options for TCP tuning of Kestrel endpoints, bound from the <c>TcpTuning</c> configuration section.
/// </summary>
public sealed class TcpTuningOptions
{
    /// <summary>The configuration section bound by <c>UseTcpTuning()</c>.</summary>
    public const string SectionName = "TcpTuning";

    /// <summary>
    /// When <see langword="true"/>, an option the platform cannot apply fails the application at start
    /// instead of being logged and skipped.
    /// </summary>
    /// <remarks>Defaults to <see langword="false"/>.</remarks>
    public bool Strict { get; set; }

    /// <summary>The settings every endpoint inherits.</summary>
    /// <remarks>Defaults to <c>NoDelay: true</c>, <c>QuickAck: Adaptive</c>, <c>ResponseFlush: MessageBoundary</c>.</remarks>
    public TcpProfile Defaults { get; set; } = new()
    {
        NoDelay = TcpTuningDefaults.NoDelay,
        QuickAck = TcpTuningDefaults.QuickAck,
        ResponseFlush = TcpTuningDefaults.ResponseFlush,
    };

    /// <summary>
    /// Settings per Kestrel named endpoint (<c>Kestrel:Endpoints:&lt;Name&gt;</c>), overriding <see cref="Defaults"/> key by key.
    /// </summary>
    public IDictionary<string, TcpProfile> Endpoints { get; } = new Dictionary<string, TcpProfile>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Values in configuration that could not be read, each naming its key; reported at start by validation.</summary>
    internal List<string> ConfigurationErrors { get; } = [];
}
