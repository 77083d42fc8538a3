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
    private readonly IOptions<TcpTuningOptions> _options;
    private readonly KestrelEndpointCatalog _catalog;
    private readonly TcpPlatform _platform;
    private readonly bool _transportNoDelay;
    private readonly ILogger _logger;

    public EndpointProfileResolver(
        IOptions<TcpTuningOptions> options,
        KestrelEndpointCatalog catalog,
        TcpPlatform platform,
        IOptions<SocketTransportOptions> transportOptions,
        ILogger<EndpointProfileResolver> logger)
    {
        _options = options;
        _catalog = catalog;
        _platform = platform;
        _transportNoDelay = transportOptions.Value.NoDelay;
        _logger = logger;
    }

    /// <param name="endPoint">The endpoint Kestrel asked the transport to bind.</param>
    /// <param name="codeProfile">Settings from <c>ListenOptions.UseTcpTuning</c> for this bind, if any.</param>
    public EffectiveTcpProfile Resolve(EndPoint endPoint, TcpProfile? codeProfile)
    {
        var options = _options.Value;
        if (codeProfile is not null)
        {
            return EffectiveTcpProfile.Create(options.Defaults, codeProfile, endpointName: null, $"ListenOptions.UseTcpTuning({endPoint})", _platform, _transportNoDelay);
        }

        var matches = _catalog.GetEndpoints().Where(e => e.Matches(endPoint)).ToList();
        var name = matches.Count switch
        {
            0 => null,
            1 => matches[0].Name,
            _ => NextOf(endPoint, matches),
        };
        if (name is not null && options.Endpoints.TryGetValue(name, out var named))
        {
            return EffectiveTcpProfile.Create(options.Defaults, named, name, $"{TcpTuningOptions.SectionName}:Endpoints:{name}", _platform, _transportNoDelay);
        }

        return EffectiveTcpProfile.Create(options.Defaults, overrides: null, name, $"{TcpTuningOptions.SectionName}:Defaults", _platform, _transportNoDelay);
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
