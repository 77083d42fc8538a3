using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace AspNetCore.TcpTuning.Configuration;

/// <summary>
/// Kestrel's named endpoints, read from the configuration section Kestrel itself loads
/// (<c>Kestrel:Endpoints</c> unless the app chose another).
/// </summary>
/// <remarks>
/// Kestrel hands a transport only the <see cref="EndPoint"/> to bind, not the endpoint's name, and its per-name
/// callback and endpoint-defaults hooks are single slots an app may already use; matching addresses takes neither.
/// </remarks>
internal sealed class KestrelEndpointCatalog
{
    private readonly IOptions<KestrelServerOptions> _kestrelOptions;

    public KestrelEndpointCatalog(IOptions<KestrelServerOptions> kestrelOptions) => _kestrelOptions = kestrelOptions;

    /// <summary>The configuration path of Kestrel's endpoints section, for messages.</summary>
    public string EndpointsPath => _kestrelOptions.Value.ConfigurationLoader?.Configuration.GetSection("Endpoints").Path ?? "Kestrel:Endpoints";

    /// <summary>The named endpoints as configured now (Kestrel reloads them when configuration changes).</summary>
    public IReadOnlyList<KestrelNamedEndpoint> GetEndpoints()
    {
        var loader = _kestrelOptions.Value.ConfigurationLoader;
        if (loader is null)
        {
            return [];
        }

        return loader.Configuration.GetSection("Endpoints").GetChildren()
            .Select(section => new KestrelNamedEndpoint(section.Key, section["Url"]))
            .ToList();
    }
}
