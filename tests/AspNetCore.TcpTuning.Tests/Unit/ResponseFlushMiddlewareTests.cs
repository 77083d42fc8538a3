using AspNetCore.TcpTuning.Configuration;
using AspNetCore.TcpTuning.Connection;
using AspNetCore.TcpTuning.Diagnostics;
using AspNetCore.TcpTuning.Http;
using AspNetCore.TcpTuning.Platform;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AspNetCore.TcpTuning.Tests.Unit;

/// <summary>Which policy the middleware applies to a request, on <see cref="DefaultHttpContext"/>s.</summary>
public sealed class ResponseFlushMiddlewareTests
{
    // Each request's collection stands for one connection's (Kestrel keeps one per HTTP/1.x connection); the middleware
    // remembers the last collection it saw on a thread with its connection, so requests must alternate on one thread
    // between connections, and an untuned one, to catch a connection taken from another request.
    public static TheoryData<string[]> Sequences => new()
    {
        new[] { "boundary", "perwrite", "boundary", "perwrite" },
        new[] { "boundary", "boundary", "perwrite", "perwrite" },
        new[] { "perwrite", "untuned", "perwrite", "untuned" },
        new[] { "perwrite", "perwrite", "untuned", "boundary", "untuned" },
    };

    [Theory]
    [MemberData(nameof(Sequences))]
    public async Task EachRequest_GetsItsOwnConnectionsPolicy(string[] sequence)
    {
        var clock = new FakeTimeProvider();
        using var sweeper = new HeldResponseSweeper(clock);
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var state = new TcpTuningOptionsState(Microsoft.Extensions.Options.Options.Create(new TcpTuningOptions()), new OptionsFactory<TcpTuningOptions>([], []), new ConfigurationBuilder().Build(), NullLogger<TcpTuningOptionsState>.Instance);
        var held = false;
        var middleware = new ResponseFlushMiddleware(
            context =>
            {
                held = context.Features.Get<IHttpResponseBodyFeature>() is MessageBoundaryResponseBodyFeature;
                return Task.CompletedTask;
            },
            state, clock, sweeper, new RouteFlushOverrides(services), new TcpTuningMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        var connections = new Dictionary<string, DefaultHttpContext>
        {
            ["boundary"] = Request(ResponseFlushMode.MessageBoundary),
            ["perwrite"] = Request(ResponseFlushMode.PerWrite),
            // No connection feature: the defaults apply (MessageBoundary), not the last connection's policy.
            ["untuned"] = Request(mode: null),
        };

        foreach (var name in sequence)
        {
            await middleware.Invoke(connections[name]);
            Assert.Equal(name != "perwrite", held);
        }
    }

    private static DefaultHttpContext Request(ResponseFlushMode? mode)
    {
        var context = new DefaultHttpContext();
        context.Request.Protocol = "HTTP/1.1";
        if (mode is { } flush)
        {
            var profile = EffectiveTcpProfile.Create(new TcpProfile { ResponseFlush = flush }, null, null, "TcpTuning:Defaults", new TcpPlatform(TcpPlatformKind.Linux), transportNoDelay: true);
            context.Features.Set<ITcpTuningFeature>(new TcpTuningConnectionFeature(profile, [], [], quickAck: null));
        }

        return context;
    }
}
