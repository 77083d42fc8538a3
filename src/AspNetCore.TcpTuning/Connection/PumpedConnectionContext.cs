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

    // How long an abort waits for the pump to send what it held (a send to a live socket takes microseconds).
    private static readonly TimeSpan s_abortDrainTimeout = TimeSpan.FromMilliseconds(50);

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

    public override void Abort(ConnectionAbortedException abortReason)
    {
        if (_pump.SendHeldBeforeAbort() is { } sent)
        {
            _ = AbortAfterAsync(sent, abortReason);
            return;
        }

        _inner.Abort(abortReason);
    }

    public override void Abort() => Abort(new ConnectionAbortedException("The connection was aborted by the application via ConnectionContext.Abort()."));

    // Bytes the pump held are sent before the reset, as bytes Kestrel's own sender had would be: without the pump they
    // would have left at their flush. Bounded, so an abort never waits on a peer that takes nothing.
    private async Task AbortAfterAsync(Task sent, ConnectionAbortedException abortReason)
    {
        try
        {
            await sent.WaitAsync(s_abortDrainTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        _inner.Abort(abortReason);
    }

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
