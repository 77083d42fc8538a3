using AspNetCore.TcpTuning.Configuration;
using AspNetCore.TcpTuning.Connection;
using AspNetCore.TcpTuning.Http;
using AspNetCore.TcpTuning.Platform;
using AspNetCore.TcpTuning.Tests.Infrastructure;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Time.Testing;

namespace AspNetCore.TcpTuning.Tests.Unit;

/// <summary>The per-response state an HTTP/1.x connection reuses, on <see cref="DefaultHttpContext"/>s with a pool.</summary>
public sealed class ResponseFlushStateTests
{
    private static readonly ResponseFlushPolicy s_policy = new(ResponseFlushMode.MessageBoundary, FlushThreshold: 65536, MaxFlushDelay: TimeSpan.FromMilliseconds(5), HonorExplicitFlush: true);

    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public async Task ReusedByItsConnection_KeepsOneBlockBetweenResponses_AndGivesItBackWhenTheConnectionEnds()
    {
        var pool = new CountingPool();
        var connectionEnd = new ConnectionEnd();
        using var sweeper = new HeldResponseSweeper(_clock);
        var state = new ResponseFlushState(_clock, sweeper, metrics: null);
        var owner = Connection();

        await RespondAsync(state, owner, pool, connectionEnd);
        await RespondAsync(state, owner, pool, connectionEnd);
        Assert.Equal(1, pool.Rented);
        Assert.Equal(1, pool.Outstanding);

        await connectionEnd.FireAsync();
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task ConnectionEndUnknown_EveryBlockGoesBackWithItsResponse()
    {
        var pool = new CountingPool();
        using var sweeper = new HeldResponseSweeper(_clock);
        var state = new ResponseFlushState(_clock, sweeper, metrics: null);
        var owner = Connection();

        await RespondAsync(state, owner, pool, connectionEnd: null);
        await RespondAsync(state, owner, pool, connectionEnd: null);
        Assert.Equal(2, pool.Rented);
        Assert.Equal(0, pool.Outstanding);
    }

    // One response as the middleware runs it: started, one write held, the end handed to the server.
    private static async Task RespondAsync(ResponseFlushState state, TcpTuningConnectionFeature owner, CountingPool pool, ConnectionEnd? connectionEnd)
    {
        var context = new DefaultHttpContext();
        context.Request.Protocol = "HTTP/1.1";
        context.Features.Set<IMemoryPoolFeature>(new PoolFeature(pool));
        if (connectionEnd is not null)
        {
            context.Features.Set<IConnectionCompleteFeature>(connectionEnd);
        }

        var server = context.Features.Get<IHttpResponseBodyFeature>()!;
        state.Begin(context, server, s_policy, routesOverride: false, cork: null, owner);
        await context.Response.StartAsync();
        await context.Response.Body.WriteAsync("held"u8.ToArray());
        await state.EndMessageAsync();
        state.End(context, endMarked: true);
        Assert.Same(state, owner.TakeResponseState<ResponseFlushState>());
    }

    private static TcpTuningConnectionFeature Connection()
        => new(EffectiveTcpProfile.Create(new TcpProfile(), null, null, "TcpTuning:Defaults", new TcpPlatform(TcpPlatformKind.Linux), transportNoDelay: true), [], [], quickAck: null);

    private sealed class PoolFeature(CountingPool pool) : IMemoryPoolFeature
    {
        public System.Buffers.MemoryPool<byte> MemoryPool => pool;
    }

    private sealed class ConnectionEnd : IConnectionCompleteFeature
    {
        private readonly List<(Func<object, Task> Callback, object State)> _callbacks = [];

        public void OnCompleted(Func<object, Task> callback, object state) => _callbacks.Add((callback, state));

        public async Task FireAsync()
        {
            foreach (var (callback, state) in _callbacks)
            {
                await callback(state);
            }
        }
    }
}
