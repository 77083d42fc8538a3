using System.Collections;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace TcpTuning.Microbenchmarks;

/// <summary>
/// Response headers that keep Content-Length as a number, as Kestrel's do: <c>HeaderDictionary</c> stores the string and
/// parses it at every read, which would make each look at the declared length cost a dictionary lookup and a parse.
/// </summary>
internal sealed class ServerLikeResponseHeaders : IHeaderDictionary
{
    private readonly HeaderDictionary _others = new();
    private long? _contentLength;

    public long? ContentLength
    {
        get => _contentLength;
        set => _contentLength = value;
    }

    public StringValues this[string key]
    {
        get => IsContentLength(key) ? (_contentLength is { } length ? new StringValues(length.ToString(System.Globalization.CultureInfo.InvariantCulture)) : default) : _others[key];
        set
        {
            if (IsContentLength(key))
            {
                _contentLength = StringValues.IsNullOrEmpty(value) ? null : long.Parse(value.ToString(), System.Globalization.CultureInfo.InvariantCulture);
            }
            else
            {
                _others[key] = value;
            }
        }
    }

    // As a collection the Content-Length comes first, when set, then the rest (Kestrel's enumerate it as a header too).
    public ICollection<string> Keys => this.Select(pair => pair.Key).ToList();

    public ICollection<StringValues> Values => this.Select(pair => pair.Value).ToList();

    public int Count => _others.Count + (_contentLength is null ? 0 : 1);

    public bool IsReadOnly => false;

    public void Add(string key, StringValues value) => this[key] = value;

    public void Add(KeyValuePair<string, StringValues> item) => this[item.Key] = item.Value;

    public void Clear()
    {
        _contentLength = null;
        if (_others.Count > 0)
        {
            _others.Clear();
        }
    }

    public bool Contains(KeyValuePair<string, StringValues> item) => TryGetValue(item.Key, out var value) && value == item.Value;

    public bool ContainsKey(string key) => IsContentLength(key) ? _contentLength is not null : _others.ContainsKey(key);

    public void CopyTo(KeyValuePair<string, StringValues>[] array, int arrayIndex)
    {
        foreach (var pair in this)
        {
            array[arrayIndex++] = pair;
        }
    }

    public IEnumerator<KeyValuePair<string, StringValues>> GetEnumerator()
    {
        if (_contentLength is not null)
        {
            yield return new(HeaderNames.ContentLength, this[HeaderNames.ContentLength]);
        }

        foreach (var pair in _others)
        {
            yield return pair;
        }
    }

    public bool Remove(string key)
    {
        if (!IsContentLength(key))
        {
            return _others.Remove(key);
        }

        var had = _contentLength is not null;
        _contentLength = null;
        return had;
    }

    public bool Remove(KeyValuePair<string, StringValues> item) => Contains(item) && Remove(item.Key);

    public bool TryGetValue(string key, out StringValues value)
    {
        value = this[key];
        return !StringValues.IsNullOrEmpty(value);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static bool IsContentLength(string key) => string.Equals(key, HeaderNames.ContentLength, StringComparison.OrdinalIgnoreCase);
}
