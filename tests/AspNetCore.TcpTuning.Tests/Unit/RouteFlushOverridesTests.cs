using AspNetCore.TcpTuning.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;

namespace AspNetCore.TcpTuning.Tests.Unit;

public sealed class RouteFlushOverridesTests
{
    [Fact]
    public void NoRouteSetsAMode_NeitherOverridesNorHolds()
    {
        using var source = new ChangingEndpointDataSource(Route("/a"), Route("/b"));
        var overrides = Create(source);

        Assert.False(overrides.AnyRouteOverrides);
        Assert.False(overrides.AnyRouteHoldsWrites);
    }

    [Fact]
    public void RouteSetsPerWrite_OverridesButDoesNotHold()
    {
        using var source = new ChangingEndpointDataSource(Route("/a"), Route("/b", ResponseFlushMode.PerWrite));
        var overrides = Create(source);

        Assert.True(overrides.AnyRouteOverrides);
        Assert.False(overrides.AnyRouteHoldsWrites);
    }

    [Fact]
    public void RouteSetsMessageBoundary_OverridesAndHolds()
    {
        using var source = new ChangingEndpointDataSource(Route("/a", ResponseFlushMode.MessageBoundary));
        var overrides = Create(source);

        Assert.True(overrides.AnyRouteOverrides);
        Assert.True(overrides.AnyRouteHoldsWrites);
    }

    [Fact]
    public void EndpointsChange_LooksAgain()
    {
        using var source = new ChangingEndpointDataSource(Route("/a"));
        var overrides = Create(source);
        Assert.False(overrides.AnyRouteOverrides);

        source.Replace(Route("/a"), Route("/b", ResponseFlushMode.MessageBoundary));

        Assert.True(overrides.AnyRouteOverrides);
        Assert.True(overrides.AnyRouteHoldsWrites);
    }

    [Fact]
    public void NoRouting_NeitherOverridesNorHolds()
    {
        var overrides = new RouteFlushOverrides(new ServiceCollection().BuildServiceProvider());

        Assert.False(overrides.AnyRouteOverrides);
        Assert.False(overrides.AnyRouteHoldsWrites);
    }

    private static RouteFlushOverrides Create(EndpointDataSource source)
        => new(new ServiceCollection().AddSingleton(source).BuildServiceProvider());

    private static Endpoint Route(string name, ResponseFlushMode? mode = null)
        => new(_ => Task.CompletedTask, mode is { } m ? new EndpointMetadataCollection(new ResponseFlushAttribute(m)) : EndpointMetadataCollection.Empty, name);

    private sealed class ChangingEndpointDataSource(params Endpoint[] endpoints) : EndpointDataSource, IDisposable
    {
        private CancellationTokenSource _changed = new();

        public override IReadOnlyList<Endpoint> Endpoints { get; } = endpoints.ToList();

        public void Replace(params Endpoint[] endpoints)
        {
            var list = (List<Endpoint>)Endpoints;
            list.Clear();
            list.AddRange(endpoints);
            var changed = _changed;
            _changed = new CancellationTokenSource();
            changed.Cancel();
            changed.Dispose();
        }

        public void Dispose() => _changed.Dispose();

        public override IChangeToken GetChangeToken() => new CancellationChangeToken(_changed.Token);
    }
}
