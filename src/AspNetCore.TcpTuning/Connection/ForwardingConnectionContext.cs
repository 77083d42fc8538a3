using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace AspNetCore.TcpTuning.Connection;

/// <summary>A connection that is Kestrel's own in all but what a subclass does as it is aborted or disposed.</summary>
internal abstract class ForwardingConnectionContext(ConnectionContext inner) : ConnectionContext
{
    /// <summary>Kestrel's connection.</summary>
    protected ConnectionContext Inner { get; } = inner;

    public override string ConnectionId
    {
        get => Inner.ConnectionId;
        set => Inner.ConnectionId = value;
    }

    public override IFeatureCollection Features => Inner.Features;

    public override IDictionary<object, object?> Items
    {
        get => Inner.Items;
        set => Inner.Items = value;
    }

    public override IDuplexPipe Transport
    {
        get => Inner.Transport;
        set => Inner.Transport = value;
    }

    public override EndPoint? LocalEndPoint
    {
        get => Inner.LocalEndPoint;
        set => Inner.LocalEndPoint = value;
    }

    public override EndPoint? RemoteEndPoint
    {
        get => Inner.RemoteEndPoint;
        set => Inner.RemoteEndPoint = value;
    }

    public override CancellationToken ConnectionClosed
    {
        get => Inner.ConnectionClosed;
        set => Inner.ConnectionClosed = value;
    }

    public override void Abort(ConnectionAbortedException abortReason) => Inner.Abort(abortReason);
}
