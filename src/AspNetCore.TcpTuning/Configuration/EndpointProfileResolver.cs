using System.Net;
using AspNetCore.TcpTuning.Diagnostics;
using AspNetCore.TcpTuning.Platform;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AspNetCore.TcpTuning.Configuration;

/// <summary>Decides which settings an endpoint being bound gets: code settings, else its named endpoint's, else the defaults.</summary>
internal sealed class EndpointProfileResolver
{
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
        if (matches.Count > 1)
        {
            TcpTuningLog.AmbiguousEndpoint(_logger, endPoint, string.Join(", ", matches.Select(m => m.Name)), matches[0].Name);
        }

        var name = matches.Count > 0 ? matches[0].Name : null;
        if (name is not null && options.Endpoints.TryGetValue(name, out var named))
        {
            return EffectiveTcpProfile.Create(options.Defaults, named, name, $"{TcpTuningOptions.SectionName}:Endpoints:{name}", _platform, _transportNoDelay);
        }

        return EffectiveTcpProfile.Create(options.Defaults, overrides: null, name, $"{TcpTuningOptions.SectionName}:Defaults", _platform, _transportNoDelay);
    }
}
