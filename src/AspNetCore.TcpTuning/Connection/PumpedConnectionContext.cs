using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace AspNetCore.TcpTuning.Connection;

/// <summary>
/// The connection Kestrel gets when <see cref="CorkingSendPump"/> owns its send side: the same connection, except that
/// disposing it first lets the pump send what it still holds, so closing a connection never truncates its last response.
/// </summary>
internal sealed class PumpedConnectionContext : ConnectionContext
{
    // Long enough for a healthy peer to take the last bytes; a dead one is aborted by Kestrel's own timeouts first.
    private static readonly TimeSpan s_drainTimeout = TimeSpan.FromSeconds(5);

    private readonly ConnectionContext _inner;
    private readonly CorkingSendPump _pump;

    public PumpedConnectionContext(ConnectionContext inner, CorkingSendPump pump)
    {
        _inner = inner;
        _pump = pump;
    }

    public override string ConnectionId
    {
        get => _inner.ConnectionId;
        set => _inner.ConnectionId = value;
    }

    public override IFeatureCollection Features => _inner.Features;

    public override IDictionary<object, object?> Items
    {
        get => _inner.Items;
        set => _inner.Items = value;
    }

    public override IDuplexPipe Transport
    {
        get => _inner.Transport;
        set => _inner.Transport = value;
    }

    public override EndPoint? LocalEndPoint
    {
        get => _inner.LocalEndPoint;
        set => _inner.LocalEndPoint = value;
    }

    public override EndPoint? RemoteEndPoint
    {
        get => _inner.RemoteEndPoint;
        set => _inner.RemoteEndPoint = value;
    }

    public override CancellationToken ConnectionClosed
    {
        get => _inner.ConnectionClosed;
        set => _inner.ConnectionClosed = value;
    }

    public override void Abort(ConnectionAbortedException abortReason) => _inner.Abort(abortReason);

    public override void Abort() => _inner.Abort();

    public override async ValueTask DisposeAsync()
    {
        // Kestrel is done with the connection but does not complete the output it was handed (it completes its own
        // pipes in DisposeAsync): completing ours lets the pump send what is left and then hand over to Kestrel's sender.
        await _pump.Output.CompleteAsync().ConfigureAwait(false);
        try
        {
            await _pump.Completion.WaitAsync(s_drainTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _inner.Abort();
        }

        await _inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
