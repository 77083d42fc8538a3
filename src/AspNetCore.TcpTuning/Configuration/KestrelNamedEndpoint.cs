using System.Net;
using Microsoft.AspNetCore.Http;

namespace AspNetCore.TcpTuning.Configuration;

/// <summary>A named endpoint from Kestrel's configuration and the socket addresses Kestrel binds for its URL.</summary>
internal sealed class KestrelNamedEndpoint
{
    public KestrelNamedEndpoint(string name, string? url)
    {
        Name = name;
        Url = url;
        if (!string.IsNullOrEmpty(url))
        {
            try
            {
                Address = BindingAddress.Parse(url);
            }
            catch (FormatException)
            {
                // Kestrel reports a malformed URL itself when it binds.
            }
        }
    }

    public string Name { get; }

    public string? Url { get; }

    private BindingAddress? Address { get; }

    /// <summary>Whether the URL binds something other than TCP (a Unix-domain socket or a named pipe).</summary>
    public bool IsNotTcp => Address is { IsUnixPipe: true } or { IsNamedPipe: true };

    /// <summary>
    /// Whether Kestrel binds <paramref name="endPoint"/> for this endpoint's URL: an IP literal binds itself,
    /// <c>localhost</c> binds both loopback addresses, and any other host binds the wildcard addresses.
    /// </summary>
    public bool Matches(EndPoint endPoint)
    {
        if (Address is null || Address.IsUnixPipe || Address.IsNamedPipe || endPoint is not IPEndPoint ip || ip.Port != Address.Port)
        {
            return false;
        }

        var host = Address.Host.TrimStart('[').TrimEnd(']');
        if (IPAddress.TryParse(host, out var literal))
        {
            return literal.Equals(ip.Address);
        }

        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.IsLoopback(ip.Address);
        }

        return ip.Address.Equals(IPAddress.IPv6Any) || ip.Address.Equals(IPAddress.Any);
    }
}
