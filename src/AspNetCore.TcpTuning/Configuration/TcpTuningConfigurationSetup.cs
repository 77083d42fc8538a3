using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace AspNetCore.TcpTuning.Configuration;

/// <summary>
/// Binds the <c>TcpTuning</c> section by hand so that every malformed value and unknown key is reported
/// with its full key at start, instead of the first conversion error ending the bind.
/// </summary>
internal sealed class TcpTuningConfigurationSetup : IConfigureOptions<TcpTuningOptions>
{
    private static readonly string[] s_quickAckNames = Enum.GetNames<QuickAckMode>();
    private static readonly string[] s_responseFlushNames = Enum.GetNames<ResponseFlushMode>();
    private static readonly string[] s_phaseNames = Enum.GetNames<RawSocketOptionPhase>();

    private readonly IConfiguration _configuration;

    public TcpTuningConfigurationSetup(IConfiguration configuration) => _configuration = configuration;

    public void Configure(TcpTuningOptions options)
    {
        var errors = options.ConfigurationErrors;
        foreach (var child in _configuration.GetSection(TcpTuningOptions.SectionName).GetChildren())
        {
            switch (child.Key.ToUpperInvariant())
            {
                case "STRICT":
                    options.Strict = ReadBool(child, errors) ?? options.Strict;
                    break;
                case "DEFAULTS":
                    if (IsSection(child, errors))
                    {
                        BindProfile(child, options.Defaults, errors);
                    }

                    break;
                case "ENDPOINTS":
                    if (!IsSection(child, errors))
                    {
                        break;
                    }

                    foreach (var endpoint in child.GetChildren())
                    {
                        if (!IsSection(endpoint, errors))
                        {
                            continue;
                        }

                        if (!options.Endpoints.TryGetValue(endpoint.Key, out var profile))
                        {
                            profile = new TcpProfile();
                            options.Endpoints[endpoint.Key] = profile;
                        }

                        BindProfile(endpoint, profile, errors);
                    }

                    break;
                default:
                    errors.Add(UnknownKey(child, "Strict, Defaults, Endpoints"));
                    break;
            }
        }
    }

    internal static void BindProfile(IConfigurationSection section, TcpProfile profile, List<string> errors)
    {
        foreach (var child in section.GetChildren())
        {
            switch (child.Key.ToUpperInvariant())
            {
                case "NODELAY": profile.NoDelay = ReadBool(child, errors) ?? profile.NoDelay; break;
                case "QUICKACK": profile.QuickAck = ReadEnum<QuickAckMode>(child, s_quickAckNames, errors) ?? profile.QuickAck; break;
                case "RESPONSEFLUSH": profile.ResponseFlush = ReadEnum<ResponseFlushMode>(child, s_responseFlushNames, errors) ?? profile.ResponseFlush; break;
                case "FLUSHTHRESHOLD": profile.FlushThreshold = ReadInt(child, errors) ?? profile.FlushThreshold; break;
                case "MAXFLUSHDELAY": profile.MaxFlushDelay = ReadTimeSpan(child, errors) ?? profile.MaxFlushDelay; break;
                case "HONOREXPLICITFLUSH": profile.HonorExplicitFlush = ReadBool(child, errors) ?? profile.HonorExplicitFlush; break;
                case "CORK": profile.Cork = ReadBool(child, errors) ?? profile.Cork; break;
                case "DETECTSTALLS": profile.DetectStalls = ReadBool(child, errors) ?? profile.DetectStalls; break;
                case "SENDBUFFERSIZE": profile.SendBufferSize = ReadInt(child, errors) ?? profile.SendBufferSize; break;
                case "RECEIVEBUFFERSIZE": profile.ReceiveBufferSize = ReadInt(child, errors) ?? profile.ReceiveBufferSize; break;
                case "USERTIMEOUT": profile.UserTimeout = ReadTimeSpan(child, errors) ?? profile.UserTimeout; break;
                case "NOTSENTLOWWATERMARK": profile.NotSentLowWatermark = ReadInt(child, errors) ?? profile.NotSentLowWatermark; break;
                case "TYPEOFSERVICE": profile.TypeOfService = ReadInt(child, errors) ?? profile.TypeOfService; break;
                case "CONGESTIONCONTROL": profile.CongestionControl = Scalar(child, errors) ?? profile.CongestionControl; break;
                case "LINGER": profile.Linger = ReadTimeSpan(child, errors) ?? profile.Linger; break;
                case "DEFERACCEPT": profile.DeferAccept = ReadTimeSpan(child, errors) ?? profile.DeferAccept; break;
                case "FASTOPENQUEUELENGTH": profile.FastOpenQueueLength = ReadInt(child, errors) ?? profile.FastOpenQueueLength; break;
                case "KEEPALIVE":
                    if (IsSection(child, errors))
                    {
                        profile.KeepAlive ??= new TcpKeepAliveOptions();
                        BindKeepAlive(child, profile.KeepAlive, errors);
                    }

                    break;
                case "RAWOPTIONS":
                    if (IsSection(child, errors))
                    {
                        profile.RawOptions = BindRawOptions(child, errors);
                    }

                    break;
                default:
                    errors.Add(UnknownKey(child, "NoDelay, QuickAck, ResponseFlush, FlushThreshold, MaxFlushDelay, HonorExplicitFlush, Cork, DetectStalls, SendBufferSize, ReceiveBufferSize, KeepAlive, UserTimeout, NotSentLowWatermark, TypeOfService, CongestionControl, Linger, DeferAccept, FastOpenQueueLength, RawOptions"));
                    break;
            }
        }
    }

    // An array: its items in index order, each an object of Level, Name, Value or Bytes, and Phase.
    private static List<RawSocketOption> BindRawOptions(IConfigurationSection section, List<string> errors)
    {
        var options = new List<RawSocketOption>();
        foreach (var item in section.GetChildren().OrderBy(c => int.TryParse(c.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : int.MaxValue))
        {
            if (!IsSection(item, errors))
            {
                continue;
            }

            var option = new RawSocketOption();
            foreach (var child in item.GetChildren())
            {
                switch (child.Key.ToUpperInvariant())
                {
                    case "LEVEL": option.Level = Scalar(child, errors); break;
                    case "NAME": option.Name = Scalar(child, errors); break;
                    case "VALUE": option.Value = ReadInt(child, errors); break;
                    case "BYTES": option.Bytes = Scalar(child, errors); break;
                    case "PHASE": option.Phase = ReadEnum<RawSocketOptionPhase>(child, s_phaseNames, errors); break;
                    default: errors.Add(UnknownKey(child, "Level, Name, Value, Bytes, Phase")); break;
                }
            }

            options.Add(option);
        }

        return options;
    }

    private static void BindKeepAlive(IConfigurationSection section, TcpKeepAliveOptions keepAlive, List<string> errors)
    {
        foreach (var child in section.GetChildren())
        {
            switch (child.Key.ToUpperInvariant())
            {
                case "ENABLED": keepAlive.Enabled = ReadBool(child, errors) ?? keepAlive.Enabled; break;
                case "IDLE": keepAlive.Idle = ReadTimeSpan(child, errors) ?? keepAlive.Idle; break;
                case "INTERVAL": keepAlive.Interval = ReadTimeSpan(child, errors) ?? keepAlive.Interval; break;
                case "COUNT": keepAlive.Count = ReadInt(child, errors) ?? keepAlive.Count; break;
                default: errors.Add(UnknownKey(child, "Enabled, Idle, Interval, Count")); break;
            }
        }
    }

    // A value where one is expected: an object, an array or an empty value (JSON null) is an error naming the key.
    private static string? Scalar(IConfigurationSection section, List<string> errors)
    {
        // Only keys that exist are read: no value and no children is a JSON null.
        if (section.Value is null && section.GetChildren().Any())
        {
            errors.Add($"{section.Path} is an object or an array; a single value is expected.");
            return null;
        }

        if (string.IsNullOrEmpty(section.Value))
        {
            errors.Add($"{section.Path} is empty (null); give a value or remove the key.");
            return null;
        }

        if (section.Value.Trim().Length != section.Value.Length)
        {
            errors.Add($"{section.Path} has the value '{section.Value}', with spaces around it.");
            return null;
        }

        return section.Value;
    }

    // A section where one is expected: a value there (a string, a number, true) is an error naming the key.
    private static bool IsSection(IConfigurationSection section, List<string> errors)
    {
        if (section.Value is null)
        {
            return true;
        }

        errors.Add($"{section.Path} has the value '{section.Value}'; an object of settings is expected.");
        return false;
    }

    private static bool? ReadBool(IConfigurationSection section, List<string> errors)
    {
        if (Scalar(section, errors) is null)
        {
            return null;
        }

        if (bool.TryParse(section.Value, out var value))
        {
            return value;
        }

        errors.Add($"{section.Path} has the value '{section.Value}', which is not true or false.");
        return null;
    }

    private static int? ReadInt(IConfigurationSection section, List<string> errors)
    {
        if (Scalar(section, errors) is null)
        {
            return null;
        }

        if (int.TryParse(section.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        errors.Add($"{section.Path} has the value '{section.Value}', which is not a whole number.");
        return null;
    }

    private static TimeSpan? ReadTimeSpan(IConfigurationSection section, List<string> errors)
    {
        if (Scalar(section, errors) is not { } text)
        {
            return null;
        }

        if (!text.Contains(':', StringComparison.Ordinal) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var days))
        {
            // The "c" format reads a bare number as days: almost never what was meant.
            errors.Add($"{section.Path} has the value '{text}', which would be read as {days} days; write a time span as [d.]hh:mm:ss[.fffffff], such as '00:00:30'.");
            return null;
        }

        if (TimeSpan.TryParseExact(text, "c", CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        errors.Add($"{section.Path} has the value '{section.Value}', which is not a time span such as '00:00:30'.");
        return null;
    }

    private static TEnum? ReadEnum<TEnum>(IConfigurationSection section, string[] names, List<string> errors)
        where TEnum : struct, Enum
    {
        if (Scalar(section, errors) is null)
        {
            return null;
        }

        // Names only: Enum.TryParse would also accept numbers and comma lists.
        foreach (var name in names)
        {
            if (string.Equals(name, section.Value, StringComparison.OrdinalIgnoreCase))
            {
                return Enum.Parse<TEnum>(name);
            }
        }

        errors.Add($"{section.Path} has the value '{section.Value}', which is not one of {string.Join(", ", names)}.");
        return null;
    }

    private static string UnknownKey(IConfigurationSection section, string known)
        => $"{section.Path} is not a known setting; the keys here are {known}.";
}
