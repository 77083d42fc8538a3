using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Primitives;

namespace AspNetCore.TcpTuning.Http;

/// <summary>
/// Whether any route asks for <see cref="ResponseFlushMode.MessageBoundary"/> through <see cref="IResponseFlushMetadata"/>.
/// When none does, requests on <see cref="ResponseFlushMode.PerWrite"/> endpoints skip the flush policy entirely.
/// </summary>
/// <remarks>The flush middleware runs before routing, so it cannot see the request's route; it sees the route table.</remarks>
internal sealed class RouteFlushOverrides
{
    private readonly EndpointDataSource? _endpoints;
    private readonly Lock _sync = new();
    private bool? _anyRouteHoldsWrites;
    private bool _subscribed;

    public RouteFlushOverrides(IServiceProvider services) => _endpoints = services.GetService(typeof(EndpointDataSource)) as EndpointDataSource;

    public bool AnyRouteHoldsWrites => _anyRouteHoldsWrites ?? Compute();

    private bool Compute()
    {
        lock (_sync)
        {
            if (_anyRouteHoldsWrites is bool known)
            {
                return known;
            }

            if (_endpoints is null)
            {
                return (_anyRouteHoldsWrites = false).Value;
            }

            // Endpoints can change (dynamic data sources): look again when they do. OnChange re-subscribes itself,
            // so subscribe once, not at every recomputation.
            if (!_subscribed)
            {
                _subscribed = true;
                ChangeToken.OnChange(_endpoints.GetChangeToken, () => _anyRouteHoldsWrites = null);
            }

            var any = _endpoints.Endpoints.Any(e => e.Metadata.GetMetadata<IResponseFlushMetadata>()?.Mode == ResponseFlushMode.MessageBoundary);
            _anyRouteHoldsWrites = any;
            return any;
        }
    }
}
