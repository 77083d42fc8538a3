using System.Text;
using AspNetCore.TcpTuning.Http;
using AspNetCore.TcpTuning.Platform;

namespace AspNetCore.TcpTuning.Configuration;

/// <summary>
/// The settings of one bound endpoint after merging the defaults, its named-endpoint settings and code settings,
/// turned into the socket options to set. Built once per bind, read on every accept.
/// </summary>
internal sealed class EffectiveTcpProfile
{
    private EffectiveTcpProfile(string? endpointName, string keyPrefix)
    {
        EndpointName = endpointName;
        KeyPrefix = keyPrefix;
    }

    /// <summary>The Kestrel named endpoint, or <see langword="null"/>.</summary>
    public string? EndpointName { get; }

    /// <summary>Where the settings come from, as a configuration key prefix (for logs and errors).</summary>
    public string KeyPrefix { get; }

    public QuickAckMode QuickAck { get; private init; }

    /// <summary>TCP_NODELAY on accepted sockets: the endpoint's, else what Kestrel's transport sets.</summary>
    public bool NoDelay { get; private init; }

    public ResponseFlushPolicy ResponseFlush { get; private init; } = ResponseFlushPolicy.From(new TcpProfile());

    public bool Cork { get; private init; }

    /// <summary>Whether connections count the requests that waited for a delayed ACK.</summary>
    public bool DetectStalls { get; private init; } = TcpTuningDefaults.DetectStalls;

    /// <summary>Options set on every accepted socket, in order.</summary>
    public IReadOnlyList<SocketOptionSetting> AcceptSettings { get; private init; } = [];

    /// <summary>The keys of <see cref="AcceptSettings"/>, shared by every connection on which all of them succeed.</summary>
    public IReadOnlyList<string> AcceptKeys { get; private init; } = [];

    /// <summary>Options set on the listen socket before it listens.</summary>
    public IReadOnlyList<SocketOptionSetting> ListenSettings { get; private init; } = [];

    /// <summary>Configured keys the platform lacks: logged once per endpoint, then skipped.</summary>
    public IReadOnlyList<string> UnsupportedKeys { get; private init; } = [];

    /// <summary>The full configuration key of an option of this profile.</summary>
    public string KeyOf(SocketOptionSetting setting) => $"{KeyPrefix}:{setting.KeyBelowProfile}";

    /// <summary>The profile in a line, as the logs show it.</summary>
    public string Describe()
    {
        var listen = string.Join(", ", ListenSettings.Select(Setting));
        var accept = string.Join(", ", AcceptSettings.Select(Setting));
        return $"NoDelay {NoDelay}, QuickAck {QuickAck}, ResponseFlush {ResponseFlush.Describe()}, Cork {Cork}, DetectStalls {DetectStalls}, listen socket [{listen}], accepted sockets [{accept}]";

        static string Setting(SocketOptionSetting s)
            => $"{s.KeyBelowProfile}={(s.Text is null ? s.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : Convert.ToHexString(s.Text))}";
    }

    /// <summary>Merges key by key: <paramref name="overrides"/> win over <paramref name="defaults"/>.</summary>
    /// <param name="defaults">The defaults every endpoint inherits.</param>
    /// <param name="overrides">Named-endpoint or code settings, if any.</param>
    /// <param name="endpointName">The named endpoint, if any.</param>
    /// <param name="keyPrefix">The configuration key prefix of the winning settings.</param>
    /// <param name="platform">The platform whose options are available.</param>
    /// <param name="transportNoDelay">The TCP_NODELAY value Kestrel's socket transport already sets on accept.</param>
    public static EffectiveTcpProfile Create(TcpProfile defaults, TcpProfile? overrides, string? endpointName, string keyPrefix, TcpPlatform platform, bool transportNoDelay)
    {
        var merged = Merge(defaults, overrides);
        var accept = new List<SocketOptionSetting>();
        var listen = new List<SocketOptionSetting>();
        var unsupported = new List<string>();

        void Add(List<SocketOptionSetting> target, TcpOption option, int value, byte[]? text = null)
        {
            if (platform.Supports(option))
            {
                target.Add(new SocketOptionSetting(option, value, text));
            }
            else
            {
                unsupported.Add($"{keyPrefix}:{TcpOptionKeys.Of(option)}");
            }
        }

        // Kestrel's transport already set its own NoDelay on accept: repeat it only when the endpoint differs.
        if (merged.NoDelay is bool noDelay && noDelay != transportNoDelay)
        {
            Add(accept, TcpOption.NoDelay, noDelay ? 1 : 0);
        }

        if (merged.SendBufferSize is int sendBuffer)
        {
            Add(accept, TcpOption.SendBufferSize, sendBuffer);
        }

        if (merged.ReceiveBufferSize is int receiveBuffer)
        {
            // On the listen socket too: the window scale is fixed in the handshake, before accept returns.
            Add(listen, TcpOption.ReceiveBufferSize, receiveBuffer);
            Add(accept, TcpOption.ReceiveBufferSize, receiveBuffer);
        }

        if (merged.KeepAlive is { } keepAlive)
        {
            if (keepAlive.Enabled is bool enabled)
            {
                Add(accept, TcpOption.KeepAlive, enabled ? 1 : 0);
            }

            if (keepAlive.Enabled == true)
            {
                if (keepAlive.Idle is TimeSpan idle)
                {
                    Add(accept, TcpOption.KeepAliveIdle, (int)idle.TotalSeconds);
                }

                if (keepAlive.Interval is TimeSpan interval)
                {
                    Add(accept, TcpOption.KeepAliveInterval, (int)interval.TotalSeconds);
                }

                if (keepAlive.Count is int count)
                {
                    Add(accept, TcpOption.KeepAliveCount, count);
                }
            }
        }

        if (merged.UserTimeout is TimeSpan userTimeout)
        {
            Add(accept, TcpOption.UserTimeout, (int)userTimeout.TotalMilliseconds);
        }

        if (merged.NotSentLowWatermark is int lowWatermark)
        {
            Add(accept, TcpOption.NotSentLowWatermark, lowWatermark);
        }

        if (merged.TypeOfService is int typeOfService)
        {
            Add(accept, TcpOption.TypeOfService, typeOfService);
        }

        if (!string.IsNullOrEmpty(merged.CongestionControl))
        {
            // On the listen socket too: a connection starts its algorithm at the handshake, and one started under bbr
            // keeps bbr's pacing after a later switch (Linux never clears it), so cubic set only at accept is paced.
            var algorithm = Encoding.ASCII.GetBytes(merged.CongestionControl);
            Add(listen, TcpOption.CongestionControl, 0, algorithm);
            Add(accept, TcpOption.CongestionControl, 0, algorithm);
        }

        if (merged.Linger is TimeSpan linger)
        {
            Add(accept, TcpOption.Linger, (int)linger.TotalSeconds);
        }

        // AfterEachRead and Adaptive re-arm from the connection's reads; Linux starts every connection in quick-ACK mode.
        if (merged.QuickAck == QuickAckMode.OnAccept)
        {
            Add(accept, TcpOption.QuickAck, 1);
        }
        // Adaptive, the library default, degrades to the OS behaviour where TCP_QUICKACK is missing instead of warning everywhere.
        else if (merged.QuickAck == QuickAckMode.AfterEachRead && !platform.Supports(TcpOption.QuickAck))
        {
            unsupported.Add($"{keyPrefix}:{TcpOptionKeys.Of(TcpOption.QuickAck)}");
        }

        if (merged.Cork == true && !platform.Supports(TcpOption.Cork))
        {
            unsupported.Add($"{keyPrefix}:{TcpOptionKeys.Of(TcpOption.Cork)}");
        }

        if (merged.DeferAccept is TimeSpan deferAccept)
        {
            Add(listen, TcpOption.DeferAccept, (int)deferAccept.TotalSeconds);
        }

        if (merged.FastOpenQueueLength is int fastOpen)
        {
            Add(listen, TcpOption.FastOpenQueueLength, fastOpen);
        }

        AddRawOptions(merged.RawOptions, platform, accept, listen);

        return new EffectiveTcpProfile(endpointName, keyPrefix)
        {
            NoDelay = merged.NoDelay ?? transportNoDelay,
            QuickAck = platform.Supports(TcpOption.QuickAck) ? merged.QuickAck ?? QuickAckMode.Default : QuickAckMode.Default,
            ResponseFlush = ResponseFlushPolicy.From(merged),
            Cork = merged.Cork == true && platform.Supports(TcpOption.Cork),
            DetectStalls = merged.DetectStalls ?? TcpTuningDefaults.DetectStalls,
            AcceptSettings = accept,
            AcceptKeys = accept.ConvertAll(s => s.KeyBelowProfile),
            ListenSettings = listen,
            UnsupportedKeys = unsupported.Distinct().ToList(),
        };
    }

    /// <summary>Key-by-key merge of two profiles, nested keep-alive keys included.</summary>
    public static TcpProfile Merge(TcpProfile defaults, TcpProfile? overrides)
    {
        if (overrides is null)
        {
            return defaults;
        }

        return new TcpProfile
        {
            NoDelay = overrides.NoDelay ?? defaults.NoDelay,
            QuickAck = overrides.QuickAck ?? defaults.QuickAck,
            ResponseFlush = overrides.ResponseFlush ?? defaults.ResponseFlush,
            FlushThreshold = overrides.FlushThreshold ?? defaults.FlushThreshold,
            MaxFlushDelay = overrides.MaxFlushDelay ?? defaults.MaxFlushDelay,
            HonorExplicitFlush = overrides.HonorExplicitFlush ?? defaults.HonorExplicitFlush,
            Cork = overrides.Cork ?? defaults.Cork,
            DetectStalls = overrides.DetectStalls ?? defaults.DetectStalls,
            SendBufferSize = overrides.SendBufferSize ?? defaults.SendBufferSize,
            ReceiveBufferSize = overrides.ReceiveBufferSize ?? defaults.ReceiveBufferSize,
            KeepAlive = (overrides.KeepAlive, defaults.KeepAlive) switch
            {
                (null, var inherited) => inherited,
                (var own, null) => own,
                var (own, inherited) => new TcpKeepAliveOptions
                {
                    Enabled = own.Enabled ?? inherited.Enabled,
                    Idle = own.Idle ?? inherited.Idle,
                    Interval = own.Interval ?? inherited.Interval,
                    Count = own.Count ?? inherited.Count,
                },
            },
            UserTimeout = overrides.UserTimeout ?? defaults.UserTimeout,
            NotSentLowWatermark = overrides.NotSentLowWatermark ?? defaults.NotSentLowWatermark,
            TypeOfService = overrides.TypeOfService ?? defaults.TypeOfService,
            CongestionControl = overrides.CongestionControl ?? defaults.CongestionControl,
            Linger = overrides.Linger ?? defaults.Linger,
            DeferAccept = overrides.DeferAccept ?? defaults.DeferAccept,
            FastOpenQueueLength = overrides.FastOpenQueueLength ?? defaults.FastOpenQueueLength,
            // A list is one value: an endpoint's list replaces the defaults'.
            RawOptions = overrides.RawOptions ?? defaults.RawOptions,
        };
    }

    // Raw options the validator accepted, in their phase's list; a name unknown on this platform was reported there.
    private static void AddRawOptions(IList<RawSocketOption>? options, TcpPlatform platform, List<SocketOptionSetting> accept, List<SocketOptionSetting> listen)
    {
        for (var i = 0; options is not null && i < options.Count; i++)
        {
            var option = options[i];
            if (option.Level is null || option.Name is null
                || !RawOptionNames.TryGetLevel(platform.Kind, option.Level, out var level)
                || !RawOptionNames.TryGetName(platform.Kind, level, option.Name, out var name))
            {
                continue;
            }

            var bytes = option.Bytes is { } hex ? Convert.FromHexString(hex) : null;
            var setting = new SocketOptionSetting(TcpOption.Raw, option.Value ?? 0, bytes, level, name, $"RawOptions:{i}");
            (option.Phase == RawSocketOptionPhase.Listen ? listen : accept).Add(setting);
        }
    }
}
