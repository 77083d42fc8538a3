using System.Net;
using AspNetCore.TcpTuning.Configuration;

namespace AspNetCore.TcpTuning.Tests.Unit;

public sealed class KestrelNamedEndpointTests
{
    [Theory]
    [InlineData("http://127.0.0.2:5000", "127.0.0.2", 5000, true)]
    [InlineData("http://127.0.0.2:5000", "127.0.0.3", 5000, false)]
    [InlineData("http://127.0.0.2:5000", "127.0.0.2", 5001, false)]
    [InlineData("http://[::1]:5000", "::1", 5000, true)]
    [InlineData("http://localhost:5000", "127.0.0.1", 5000, true)]
    [InlineData("http://localhost:5000", "::1", 5000, true)]
    [InlineData("http://LOCALHOST:5000", "127.0.0.1", 5000, true)]
    [InlineData("http://*:5000", "::", 5000, true)]
    [InlineData("http://+:5000", "0.0.0.0", 5000, true)]
    [InlineData("http://example.com:5000", "::", 5000, true)]
    [InlineData("http://*:5000", "127.0.0.1", 5000, false)]
    [InlineData("http://0.0.0.0:5000", "0.0.0.0", 5000, true)]
    [InlineData("https://127.0.0.1", "127.0.0.1", 443, true)]
    [InlineData("http://127.0.0.1", "127.0.0.1", 80, true)]
    [InlineData("http://unix:/tmp/kestrel.sock", "127.0.0.1", 80, false)]
    [InlineData("not a url", "127.0.0.1", 80, false)]
    public void Matches_BindsWhatKestrelBindsForTheUrl(string url, string address, int port, bool expected)
    {
        var endpoint = new KestrelNamedEndpoint("Api", url);

        Assert.Equal(expected, endpoint.Matches(new IPEndPoint(IPAddress.Parse(address), port)));
    }

    [Fact]
    public void Matches_NonIpEndPoint_False()
    {
        var endpoint = new KestrelNamedEndpoint("Api", "http://unix:/tmp/kestrel.sock");

        Assert.False(endpoint.Matches(new System.Net.Sockets.UnixDomainSocketEndPoint("/tmp/kestrel.sock")));
    }
}
