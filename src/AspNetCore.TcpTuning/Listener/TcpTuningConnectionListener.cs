using System.Net;
using AspNetCore.TcpTuning.Configuration;
using AspNetCore.TcpTuning.Connection;
using Microsoft.AspNetCore.Connections;

namespace AspNetCore.TcpTuning.Listener;

/// <summary>Tunes each connection the socket transport accepts before handing it to Kestrel.</summary>
/// <remarks>
/// Each connection gets the endpoint's profile as the options are when it is accepted: after a reload, new connections
/// get the new one; connections accepted before keep what they had.
/// </remarks>
internal sealed class TcpTuningConnectionListener : IConnectionListener
{
    private readonly IConnectionListener _inner;
    private readonly EndpointIdentity _identity;
    private readonly EndpointProfileResolver _resolver;
    private readonly TcpTuningOptionsState _state;
    private readonly TcpConnectionTuner _tuner;
    private EffectiveTcpProfile _profile;
    private int _version;

    public TcpTuningConnectionListener(IConnectionListener inner, EndpointIdentity identity, EffectiveTcpProfile profile, EndpointProfileResolver resolver, TcpTuningOptionsState state, TcpConnectionTuner tuner)
    {
        _inner = inner;
        _identity = identity;
        _profile = profile;
        _resolver = resolver;
        _state = state;
        _version = state.Version;
        _tuner = tuner;
    }

    /// <inheritdoc />
    public EndPoint EndPoint => _inner.EndPoint;

    /// <inheritdoc />
    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        var connection = await _inner.AcceptAsync(cancellationToken).ConfigureAwait(false);
        return connection is null ? null : _tuner.OnAccepted(connection, CurrentProfile());
    }

    /// <inheritdoc />
    public ValueTask UnbindAsync(CancellationToken cancellationToken = default) => _inner.UnbindAsync(cancellationToken);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _inner.DisposeAsync();

    // The accept loop is one at a time per listener: no lock.
    private EffectiveTcpProfile CurrentProfile()
    {
        var version = _state.Version;
        if (version != _version)
        {
            _profile = _resolver.ProfileOf(_identity.Name, _identity.CodeProfile, _identity.EndPoint);
            _version = version;
        }

        return _profile;
    }
}
