using System.Net;
using AspNetCore.TcpTuning.Diagnostics;
using AspNetCore.TcpTuning.Platform;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AspNetCore.TcpTuning.Configuration;

/// <summary>Decides which settings an endpoint being bound gets: code settings, else its named endpoint's, else the defaults.</summary>
/// <remarks>
/// Named endpoints are matched by the address Kestrel asks the transport to bind. Several named endpoints may bind the
/// same address with port 0 (the usual integration-test setup): Kestrel's loader reads them in configuration order
/// and its binder binds them one at a time in that order, so the n-th bind of such an address is the n-th of them.
/// </remarks>
internal sealed class EndpointProfileResolver
{
    private readonly Lock _sync = new();
    private readonly Dictionary<EndPoint, int> _bindsSoFar = [];
    private readonly TcpTuningOptionsState _state;
    private readonly KestrelEndpointCatalog _catalog;
    private readonly TcpPlatform _platform;
    private readonly bool _transportNoDelay;
    private readonly ILogger _logger;

    public EndpointProfileResolver(
        TcpTuningOptionsState state,
        KestrelEndpointCatalog catalog,
        TcpPlatform platform,
        IOptions<SocketTransportOptions> transportOptions,
        ILogger<EndpointProfileResolver> logger)
    {
        _state = state;
        state.Changed += LogChanges;
        _catalog = catalog;
        _platform = platform;
        _transportNoDelay = transportOptions.Value.NoDelay;
        _logger = logger;
    }

    /// <summary>The named endpoint an endpoint being bound is, if any (by address; by turn when several share it).</summary>
    /// <param name="endPoint">The endpoint Kestrel asked the transport to bind.</param>
    public string? NameOf(EndPoint endPoint)
    {
        var matches = _catalog.GetEndpoints().Where(e => e.Matches(endPoint)).ToList();
        return matches.Count switch
        {
            0 => null,
            1 => matches[0].Name,
            _ => NextOf(endPoint, matches),
        };
    }

    /// <summary>The profile of an endpoint with the options in force now.</summary>
    /// <param name="name">The named endpoint, if any.</param>
    /// <param name="codeProfile">Settings from <c>ListenOptions.UseTcpTuning</c> for this endpoint, if any.</param>
    /// <param name="endPoint">The endpoint, for the key of code settings.</param>
    public EffectiveTcpProfile ProfileOf(string? name, TcpProfile? codeProfile, EndPoint endPoint) => ProfileOf(_state.Current, name, codeProfile, endPoint);

    private EffectiveTcpProfile ProfileOf(TcpTuningOptions options, string? name, TcpProfile? codeProfile, EndPoint endPoint)
    {
        if (codeProfile is not null)
        {
            return EffectiveTcpProfile.Create(options.Defaults, codeProfile, endpointName: null, $"ListenOptions.UseTcpTuning({endPoint})", _platform, _transportNoDelay);
        }

        if (name is not null && options.Endpoints.TryGetValue(name, out var named))
        {
            return EffectiveTcpProfile.Create(options.Defaults, named, name, $"{TcpTuningOptions.SectionName}:Endpoints:{name}", _platform, _transportNoDelay);
        }

        return EffectiveTcpProfile.Create(options.Defaults, overrides: null, name, $"{TcpTuningOptions.SectionName}:Defaults", _platform, _transportNoDelay);
    }

    // After a valid reload: what new connections of each named endpoint (and of the others, by the defaults) now get.
    private void LogChanges(TcpTuningOptions previous, TcpTuningOptions next)
    {
        var any = new IPEndPoint(IPAddress.Any, 0);
        foreach (var name in _catalog.GetEndpoints().Select(e => (string?)e.Name).Append(null))
        {
            var before = ProfileOf(previous, name, codeProfile: null, any).Describe();
            var after = ProfileOf(next, name, codeProfile: null, any).Describe();
            if (before != after)
            {
                TcpTuningLog.EndpointProfileChanged(_logger, name ?? "endpoints without a name", after, before);
            }
        }
    }

    // The named endpoint whose turn it is to bind this address. Once every one of them has bound (Kestrel rebinds an
    // endpoint whose configuration changed), which one binds can no longer be told: the first one's settings apply.
    private string NextOf(EndPoint endPoint, List<KestrelNamedEndpoint> matches)
    {
        int turn;
        lock (_sync)
        {
            turn = _bindsSoFar.GetValueOrDefault(endPoint);
            _bindsSoFar[endPoint] = turn + 1;
        }

        if (turn < matches.Count)
        {
            return matches[turn].Name;
        }

        TcpTuningLog.AmbiguousEndpoint(_logger, endPoint, string.Join(", ", matches.Select(m => m.Name)), matches[0].Name);
        return matches[0].Name;
    }
}
