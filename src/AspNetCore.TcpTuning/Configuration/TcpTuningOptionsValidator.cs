using AspNetCore.TcpTuning.Diagnostics;
using AspNetCore.TcpTuning.Platform;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AspNetCore.TcpTuning.Configuration;

/// <summary>
/// Validates <see cref="TcpTuningOptions"/> at start and reports every error, each with its full configuration key.
/// </summary>
internal sealed class TcpTuningOptionsValidator : IValidateOptions<TcpTuningOptions>
{
    internal const int MaxKeepAliveSeconds = 32767;
    internal const int MaxKeepAliveCount = 127;
    internal const int MaxTypeOfService = 255;
    internal const int MaxLingerSeconds = 65535;
    internal const int MaxDeferAcceptSeconds = 3600;
    internal const int MaxFastOpenQueueLength = 65535;
    internal const int MaxCongestionControlNameLength = 15;
    internal const int MaxBufferSize = int.MaxValue / 2;
    internal const int MaxFlushThreshold = 16 * 1024 * 1024;
    internal const int MaxFlushDelayMilliseconds = 1000;

    private readonly Func<IReadOnlyList<KestrelNamedEndpoint>> _kestrelEndpoints;
    private readonly Func<string> _kestrelEndpointsPath;
    private readonly TcpPlatform _platform;
    private readonly IReadOnlySet<string>? _congestionControls;
    private readonly Func<string, bool> _canSetCongestionControl;
    private readonly HashSet<string> _warned = [];
    private readonly Func<int?> _fastOpen;
    private readonly ILogger _logger;

    public TcpTuningOptionsValidator(KestrelEndpointCatalog catalog, TcpPlatform platform, ILogger<TcpTuningOptionsValidator> logger)
        : this(catalog.GetEndpoints, () => catalog.EndpointsPath, platform, CongestionControlCatalog.GetAvailable(), CongestionControlCatalog.CanSet, logger: logger)
    {
    }

    // canSetCongestionControl and fastOpen: what the kernel lets this process do (probes, replaced in tests).
    internal TcpTuningOptionsValidator(Func<IReadOnlyList<KestrelNamedEndpoint>> kestrelEndpoints, Func<string> kestrelEndpointsPath, TcpPlatform platform, IReadOnlySet<string>? congestionControls, Func<string, bool>? canSetCongestionControl = null, Func<int?>? fastOpen = null, ILogger? logger = null)
    {
        _logger = logger ?? NullLogger.Instance;
        _fastOpen = fastOpen ?? KernelTcpSettings.FastOpen;
        _kestrelEndpoints = kestrelEndpoints;
        _kestrelEndpointsPath = kestrelEndpointsPath;
        _platform = platform;
        _congestionControls = congestionControls;
        _canSetCongestionControl = canSetCongestionControl ?? (_ => true);
    }

    public ValidateOptionsResult Validate(string? name, TcpTuningOptions options)
    {
        var builder = new ValidateOptionsResultBuilder();
        AddErrors(builder, options.ConfigurationErrors);
        AddErrors(builder, ValidateProfile($"{TcpTuningOptions.SectionName}:Defaults", options.Defaults, inherited: null, options.Strict));

        var endpoints = options.Endpoints.Count > 0 ? _kestrelEndpoints() : [];
        foreach (var (endpointName, profile) in options.Endpoints)
        {
            var prefix = $"{TcpTuningOptions.SectionName}:Endpoints:{endpointName}";
            if (!endpoints.Any(e => string.Equals(e.Name, endpointName, StringComparison.OrdinalIgnoreCase)))
            {
                var known = endpoints.Count == 0 ? "none" : string.Join(", ", endpoints.Select(e => e.Name));
                builder.AddError($"{prefix} matches no Kestrel endpoint; the names under {_kestrelEndpointsPath()} are: {known}.");
            }

            AddErrors(builder, ValidateProfile(prefix, profile, options.Defaults, options.Strict));
            if (endpoints.FirstOrDefault(e => string.Equals(e.Name, endpointName, StringComparison.OrdinalIgnoreCase)) is { IsNotTcp: true } notTcp)
            {
                foreach (var key in TcpOnlyKeysSet(profile))
                {
                    if (options.Strict)
                    {
                        builder.AddError($"{prefix}:{key} applies to TCP endpoints only; {_kestrelEndpointsPath()}:{notTcp.Name}:Url is {notTcp.Url}.");
                    }
                    else if (FirstWarning($"{prefix}:{key}"))
                    {
                        TcpTuningLog.OptionNotForTcpEndpoint(_logger, $"{prefix}:{key}", notTcp.Url!);
                    }
                }
            }
        }

        return builder.Build();
    }

    private void ValidateRawOptions(List<string> errors, string prefix, IList<RawSocketOption>? options)
    {
        for (var i = 0; options is not null && i < options.Count; i++)
        {
            var option = options[i];
            var key = $"{prefix}:RawOptions:{i}";
            var level = -1;
            if (option.Level is null)
            {
                errors.Add($"{key}:Level is required: Tcp, Socket, IP, IPv6, or a number from 0 to 65535.");
            }
            else if (!RawOptionNames.TryGetLevel(_platform.Kind, option.Level, out level))
            {
                errors.Add($"{key}:Level has the value '{option.Level}', which is not Tcp, Socket, IP, IPv6, or a number from 0 to 65535.");
            }

            if (option.Name is null)
            {
                errors.Add($"{key}:Name is required: an option name of the level, or its number.");
            }
            else if (level >= 0 && !RawOptionNames.TryGetName(_platform.Kind, level, option.Name, out _))
            {
                var known = RawOptionNames.Known(_platform.Kind, level).ToList();
                errors.Add($"{key}:Name '{option.Name}' is not an option of level {option.Level} known on {_platform.Name}; give its number, or one of: {(known.Count == 0 ? "(none known)" : string.Join(", ", known))}.");
            }

            if ((option.Value is null) == (option.Bytes is null))
            {
                errors.Add($"{key} needs exactly one of Value (a 32-bit integer) and Bytes (hexadecimal).");
            }
            else if (option.Bytes is { } hex && (hex.Length is 0 or > 512 || hex.Length % 2 != 0 || !hex.All(char.IsAsciiHexDigit)))
            {
                errors.Add($"{key}:Bytes must be 1 to 256 bytes in hexadecimal, two digits a byte.");
            }
        }
    }

    // Once per key: validation runs again each time the options are built (at start, at each reload).
    private bool FirstWarning(string key)
    {
        lock (_warned)
        {
            return _warned.Add(key);
        }
    }

    // The keys an endpoint sets that only a TCP socket has: on a Unix-domain socket or a named pipe they are skipped.
    private static IEnumerable<string> TcpOnlyKeysSet(TcpProfile profile)
    {
        (string Key, bool Set)[] keys =
        [
            ("NoDelay", profile.NoDelay is not null),
            ("QuickAck", profile.QuickAck is not null),
            ("Cork", profile.Cork is not null),
            ("DetectStalls", profile.DetectStalls is not null),
            ("SendBufferSize", profile.SendBufferSize is not null),
            ("ReceiveBufferSize", profile.ReceiveBufferSize is not null),
            ("KeepAlive", profile.KeepAlive is not null),
            ("UserTimeout", profile.UserTimeout is not null),
            ("NotSentLowWatermark", profile.NotSentLowWatermark is not null),
            ("TypeOfService", profile.TypeOfService is not null),
            ("CongestionControl", profile.CongestionControl is not null),
            ("Linger", profile.Linger is not null),
            ("DeferAccept", profile.DeferAccept is not null),
            ("FastOpenQueueLength", profile.FastOpenQueueLength is not null),
            ("RawOptions", profile.RawOptions is { Count: > 0 }),
        ];
        return keys.Where(k => k.Set).Select(k => k.Key);
    }

    /// <summary>The errors of one profile, each naming its full key below <paramref name="prefix"/>.</summary>
    public List<string> ValidateProfile(string prefix, TcpProfile profile, TcpProfile? inherited, bool strict)
    {
        var errors = new List<string>();
        Range(errors, prefix, "SendBufferSize", profile.SendBufferSize, 1, MaxBufferSize);
        Range(errors, prefix, "ReceiveBufferSize", profile.ReceiveBufferSize, 1, MaxBufferSize);
        Range(errors, prefix, "NotSentLowWatermark", profile.NotSentLowWatermark, 1, int.MaxValue);
        Range(errors, prefix, "FlushThreshold", profile.FlushThreshold, 1, MaxFlushThreshold);
        if (profile.MaxFlushDelay is TimeSpan maxFlushDelay && (maxFlushDelay < TimeSpan.Zero || maxFlushDelay.TotalMilliseconds > MaxFlushDelayMilliseconds))
        {
            errors.Add($"{prefix}:MaxFlushDelay must be between 00:00:00 and {TimeSpan.FromMilliseconds(MaxFlushDelayMilliseconds):c}.");
        }

        Range(errors, prefix, "TypeOfService", profile.TypeOfService, 0, MaxTypeOfService);
        Range(errors, prefix, "FastOpenQueueLength", profile.FastOpenQueueLength, 1, MaxFastOpenQueueLength);
        ValidateRawOptions(errors, prefix, profile.RawOptions);
        if (profile.FastOpenQueueLength is not null && _platform.Supports(TcpOption.FastOpenQueueLength) && _fastOpen() is { } fastOpen && !KernelTcpSettings.AllowsServerFastOpen(fastOpen))
        {
            // The kernel takes the option and ignores it: reported applied, it would do nothing.
            if (strict)
            {
                errors.Add($"{prefix}:FastOpenQueueLength has no effect: net.ipv4.tcp_fastopen is {fastOpen}, without the server bit (2); set it to 3 or remove the key.");
            }
            else if (FirstWarning($"{prefix}:FastOpenQueueLength"))
            {
                TcpTuningLog.FastOpenIgnoredByKernel(_logger, $"{prefix}:FastOpenQueueLength", fastOpen);
            }
        }
        Seconds(errors, prefix, "Linger", profile.Linger, 0, MaxLingerSeconds);
        Seconds(errors, prefix, "DeferAccept", profile.DeferAccept, 1, MaxDeferAcceptSeconds);

        if (profile.UserTimeout is TimeSpan userTimeout
            && (userTimeout.Ticks % TimeSpan.TicksPerMillisecond != 0 || userTimeout.TotalMilliseconds is < 1 or > int.MaxValue))
        {
            errors.Add($"{prefix}:UserTimeout must be a whole number of milliseconds between 00:00:00.001 and {TimeSpan.FromMilliseconds(int.MaxValue):c}.");
        }

        if (profile.CongestionControl is { } congestionControl)
        {
            if (congestionControl.Length is 0 or > MaxCongestionControlNameLength || !congestionControl.All(char.IsAsciiLetterOrDigit))
            {
                errors.Add($"{prefix}:CongestionControl must be an algorithm name of 1 to {MaxCongestionControlNameLength} ASCII letters or digits.");
            }
            else if (_congestionControls is not null && !_congestionControls.Contains(congestionControl))
            {
                errors.Add($"{prefix}:CongestionControl '{congestionControl}' is not offered by this kernel; tcp_available_congestion_control lists: {string.Join(", ", _congestionControls.Order(StringComparer.Ordinal))}.");
            }
            else if (_congestionControls is not null && _platform.Supports(TcpOption.CongestionControl) && !_canSetCongestionControl(congestionControl))
            {
                // Offered but not allowed to this process: every connection's setsockopt would fail (EPERM).
                var allowed = CongestionControlCatalog.GetAllowed() is { } names ? string.Join(", ", names.Order(StringComparer.Ordinal)) : "(unknown)";
                errors.Add($"{prefix}:CongestionControl '{congestionControl}' is offered by this kernel but this process may not set it; tcp_allowed_congestion_control lists: {allowed} (others need CAP_NET_ADMIN).");
            }
        }

        if (profile.KeepAlive is { } keepAlive)
        {
            var keepAlivePrefix = $"{prefix}:KeepAlive";
            Seconds(errors, keepAlivePrefix, "Idle", keepAlive.Idle, 1, MaxKeepAliveSeconds);
            Seconds(errors, keepAlivePrefix, "Interval", keepAlive.Interval, 1, MaxKeepAliveSeconds);
            Range(errors, keepAlivePrefix, "Count", keepAlive.Count, 1, MaxKeepAliveCount);

            var enabled = keepAlive.Enabled ?? inherited?.KeepAlive?.Enabled;
            if (enabled != true && (keepAlive.Idle is not null || keepAlive.Interval is not null || keepAlive.Count is not null))
            {
                errors.Add($"{keepAlivePrefix}:Idle, Interval and Count take effect only with {keepAlivePrefix}:Enabled set to true.");
            }
        }

        if (strict)
        {
            foreach (var key in UnsupportedKeys(profile))
            {
                errors.Add($"{prefix}:{key} is not supported on {_platform.Name}, and {TcpTuningOptions.SectionName}:Strict is true.");
            }
        }

        return errors;
    }

    private IEnumerable<string> UnsupportedKeys(TcpProfile profile)
    {
        // Adaptive QuickAck is the library default and degrades silently; see EffectiveTcpProfile.
        var probe = EffectiveTcpProfile.Create(new TcpProfile(), profile, endpointName: null, keyPrefix: "", _platform, transportNoDelay: profile.NoDelay != true);
        return probe.UnsupportedKeys.Select(key => key.TrimStart(':'));
    }

    private static void AddErrors(ValidateOptionsResultBuilder builder, List<string> errors)
    {
        foreach (var error in errors)
        {
            builder.AddError(error);
        }
    }

    private static void Range(List<string> errors, string prefix, string key, int? value, int min, int max)
    {
        if (value is int v && (v < min || v > max))
        {
            errors.Add($"{prefix}:{key} must be between {min} and {max}.");
        }
    }

    private static void Seconds(List<string> errors, string prefix, string key, TimeSpan? value, int min, int max)
    {
        if (value is TimeSpan v && (v.Ticks % TimeSpan.TicksPerSecond != 0 || v.TotalSeconds < min || v.TotalSeconds > max))
        {
            errors.Add($"{prefix}:{key} must be a whole number of seconds between {TimeSpan.FromSeconds(min):c} and {TimeSpan.FromSeconds(max):c}.");
        }
    }
}
