using AspNetCore.TcpTuning.Configuration;

namespace AspNetCore.TcpTuning.Connection;

/// <summary>The per-connection record of what was set, shared by the listener, connection and HTTP layers.</summary>
internal sealed class TcpTuningConnectionFeature : ITcpTuningFeature, ITcpInfoFeature
{
    private readonly QuickAckController? _quickAck;
    private readonly System.Net.Sockets.Socket? _socket;
    private readonly ConnectionCloseRecorder? _closeRecorder;
    private readonly Microsoft.AspNetCore.Http.Features.IFeatureCollection? _connectionFeatures;
    // The HTTP layer's reusable per-response state, opaque here: the connection layer only keeps it between responses.
    private object? _responseState;
    private int _sharedResponseFlush;

    public TcpTuningConnectionFeature(EffectiveTcpProfile profile, IReadOnlyList<string> appliedOptions, IReadOnlyList<string> failedOptions, QuickAckController? quickAck, ITcpCorkControl? cork = null, System.Net.Sockets.Socket? socket = null, ConnectionCloseRecorder? closeRecorder = null, Microsoft.AspNetCore.Http.Features.IFeatureCollection? connectionFeatures = null)
    {
        _connectionFeatures = connectionFeatures;
        _closeRecorder = closeRecorder;
        _socket = socket;
        _quickAck = quickAck;
        Cork = cork;
        Profile = profile;
        AppliedOptions = appliedOptions;
        FailedOptions = failedOptions;
    }

    public EffectiveTcpProfile Profile { get; }

    /// <summary>The send side's cork, when the endpoint has <c>Cork</c> on; the HTTP layer marks messages through it.</summary>
    public ITcpCorkControl? Cork { get; }

    /// <inheritdoc />
    public string? EndpointName => Profile.EndpointName;

    /// <inheritdoc />
    public IReadOnlyList<string> AppliedOptions { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> SkippedOptions => Profile.UnsupportedKeys;

    /// <inheritdoc />
    public IReadOnlyList<string> FailedOptions { get; }

    /// <inheritdoc />
    public QuickAckMode QuickAck => Profile.QuickAck;

    /// <inheritdoc />
    public long QuickAckRearms => _quickAck?.Rearms ?? 0;

    /// <inheritdoc />
    public ResponseFlushMode ResponseFlush => Profile.ResponseFlush.Mode;

    /// <inheritdoc />
    bool ITcpTuningFeature.Cork => Cork is not null;

    /// <summary>The HTTP layer began a response (counted for the per-connection histograms, when they are listened to).</summary>
    public void OnResponse() => _closeRecorder?.OnResponse();

    /// <summary>Takes the HTTP layer's reusable per-response state of this connection, if it is not in use.</summary>
    public T? TakeResponseState<T>()
        where T : class
        => Interlocked.Exchange(ref _responseState, null) as T;

    /// <summary>Gives the state back for the connection's next response.</summary>
    public void ReturnResponseState(object state) => Volatile.Write(ref _responseState, state);

    /// <summary>
    /// Makes the response-flush feature of the connection's reusable state visible to every request of the connection
    /// (Kestrel looks a feature its request lacks up in the connection's collection), instead of the HTTP layer setting
    /// and removing it on each request. Only the first caller's feature is shared; false for the others, and when the
    /// connection's collection is unknown.
    /// </summary>
    public bool TryShareWithRequests(IResponseFlushFeature feature)
    {
        if (_connectionFeatures is null || Interlocked.Exchange(ref _sharedResponseFlush, 1) != 0)
        {
            return false;
        }

        _connectionFeatures.Set(feature);
        return true;
    }

    /// <inheritdoc />
    public bool TryRead(out TcpConnectionInfo info)
    {
        if (_socket is null)
        {
            info = default;
            return false;
        }

        return TcpConnectionInfo.TryRead(_socket, out info);
    }
}
