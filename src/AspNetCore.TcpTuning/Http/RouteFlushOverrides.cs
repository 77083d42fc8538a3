using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Primitives;

namespace AspNetCore.TcpTuning.Http;

/// <summary>
/// Whether any route sets its flush mode through <see cref="IResponseFlushMetadata"/>, and whether any asks for
/// <see cref="ResponseFlushMode.MessageBoundary"/>. When none does, requests on <see cref="ResponseFlushMode.PerWrite"/>
/// endpoints skip the flush policy entirely; when no route sets a mode, responses skip the metadata lookup.
/// </summary>
/// <remarks>The flush middleware runs before routing, so it cannot see the request's route; it sees the route table.</remarks>
internal sealed class RouteFlushOverrides
{
    private readonly EndpointDataSource? _endpoints;
    private readonly Lock _sync = new();
    private (bool AnyOverride, bool AnyHoldsWrites)? _routes;
    private bool _subscribed;

    public RouteFlushOverrides(IServiceProvider services) => _endpoints = services.GetService(typeof(EndpointDataSource)) as EndpointDataSource;

    /// <summary>Whether any route asks for <see cref="ResponseFlushMode.MessageBoundary"/>.</summary>
    public bool AnyRouteHoldsWrites => (_routes ?? Compute()).AnyHoldsWrites;

    /// <summary>Whether any route sets a flush mode at all.</summary>
    public bool AnyRouteOverrides => (_routes ?? Compute()).AnyOverride;

    private (bool AnyOverride, bool AnyHoldsWrites) Compute()
    {
        lock (_sync)
        {
            if (_routes is { } known)
            {
                return known;
            }

            if (_endpoints is null)
            {
                _routes = (false, false);
                return (false, false);
            }

            // Endpoints can change (dynamic data sources): look again when they do. OnChange re-subscribes itself,
            // so subscribe once, not at every recomputation.
            if (!_subscribed)
            {
                _subscribed = true;
                ChangeToken.OnChange(_endpoints.GetChangeToken, () => _routes = null);
            }

            var modes = _endpoints.Endpoints.Select(e => e.Metadata.GetMetadata<IResponseFlushMetadata>()?.Mode).Where(m => m is not null).ToList();
            var routes = (modes.Count > 0, modes.Contains(ResponseFlushMode.MessageBoundary));
            _routes = routes;
            return routes;
        }
    }
}
