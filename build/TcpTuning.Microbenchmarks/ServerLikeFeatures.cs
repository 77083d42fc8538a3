using System.Collections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Features.Authentication;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace TcpTuning.Microbenchmarks;

/// <summary>
/// A request's feature collection laid out as Kestrel's is: a slot per feature Kestrel knows, found by comparing the
/// type with each in turn; others in a short list; what the request lacks looked up in the connection's collection; a
/// revision bumped on every set. <c>DefaultHttpContext</c>'s <c>FeatureCollection</c> is a dictionary instead, dearer
/// per lookup and per set, which would make a feature swap look dearer than it is on a server.
/// </summary>
internal sealed class ServerLikeFeatures(IFeatureCollection connection) : IFeatureCollection
{
    // Kestrel's known request features, in the order its generated collection compares them (HttpProtocol.Generated.cs).
    private static readonly Type[] s_known =
    [
        typeof(IHttpRequestFeature), typeof(IHttpResponseFeature), typeof(IHttpResponseBodyFeature), typeof(IRouteValuesFeature),
        typeof(IEndpointFeature), typeof(IServiceProvidersFeature), typeof(IHttpActivityFeature), typeof(IHttpMetricsTagsFeature),
        typeof(IItemsFeature), typeof(IQueryFeature), typeof(IRequestBodyPipeFeature), typeof(IFormFeature),
        typeof(IHttpAuthenticationFeature), typeof(IHttpRequestIdentifierFeature), typeof(IHttpConnectionFeature), typeof(ISessionFeature),
        typeof(IResponseCookiesFeature), typeof(IHttpRequestTrailersFeature), typeof(IHttpResponseTrailersFeature), typeof(ITlsConnectionFeature),
        typeof(IHttpExtendedConnectFeature), typeof(IHttpUpgradeFeature), typeof(IHttpWebSocketFeature),
        typeof(IBadRequestExceptionFeature), typeof(IHttpRequestTimeoutFeature), typeof(IHttp2StreamIdFeature), typeof(IHttpRequestLifetimeFeature),
        typeof(IHttpMaxRequestBodySizeFeature), typeof(IHttpMinRequestBodyDataRateFeature), typeof(IHttpMinResponseDataRateFeature), typeof(IHttpBodyControlFeature),
        typeof(IHttpRequestBodyDetectionFeature), typeof(IHttpResetFeature), typeof(IPersistentStateFeature),
    ];

    private readonly object?[] _slots = new object?[s_known.Length];
    private readonly List<KeyValuePair<Type, object>> _extra = [];
    private int _revision;

    public bool IsReadOnly => false;

    public int Revision => _revision;

    public object? this[Type key]
    {
        get
        {
            for (var i = 0; i < s_known.Length; i++)
            {
                if (ReferenceEquals(s_known[i], key))
                {
                    return _slots[i] ?? connection[key];
                }
            }

            foreach (var pair in _extra)
            {
                if (ReferenceEquals(pair.Key, key))
                {
                    return pair.Value;
                }
            }

            return connection[key];
        }
        set
        {
            _revision++;
            for (var i = 0; i < s_known.Length; i++)
            {
                if (ReferenceEquals(s_known[i], key))
                {
                    _slots[i] = value;
                    return;
                }
            }

            for (var i = 0; i < _extra.Count; i++)
            {
                if (ReferenceEquals(_extra[i].Key, key))
                {
                    _extra.RemoveAt(i);
                    break;
                }
            }

            if (value is not null)
            {
                _extra.Add(new(key, value));
            }
        }
    }

    /// <summary>A new request, as Kestrel's reset: the revision moves, features set by the last request's app are gone.</summary>
    public void Reset()
    {
        _revision++;
        _extra.Clear();
    }

    public TFeature? Get<TFeature>() => (TFeature?)this[typeof(TFeature)];

    public void Set<TFeature>(TFeature? instance) => this[typeof(TFeature)] = instance;

    public IEnumerator<KeyValuePair<Type, object>> GetEnumerator() => throw new NotSupportedException();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
