using System.Net.Sockets;
using AspNetCore.TcpTuning.Platform;

namespace AspNetCore.TcpTuning.Tests.Unit;

public sealed class TcpPlatformTests
{
    [Theory]
    [InlineData("Linux", "QuickAck", 6, 12)]
    [InlineData("Linux", "NotSentLowWatermark", 6, 25)]
    [InlineData("MacOS", "NotSentLowWatermark", 6, 0x201)]
    [InlineData("Linux", "UserTimeout", 6, 18)]
    [InlineData("Linux", "CongestionControl", 6, 13)]
    [InlineData("Linux", "DeferAccept", 6, 9)]
    [InlineData("Linux", "FastOpenQueueLength", 6, 23)]
    [InlineData("Linux", "TypeOfService", 0, 1)]
    [InlineData("MacOS", "TypeOfService", 0, 3)]
    [InlineData("FreeBsd", "TypeOfService", 0, 3)]
    // The numbers of linux/in.h, linux/in6.h, linux/tcp.h, and Darwin's and FreeBSD's netinet/in.h and netinet/tcp.h.
    public void TryGetRawOption_KnownOption_ReturnsPlatformNumbers(string kind, string option, int level, int name)
    {
        Assert.True(new TcpPlatform(Enum.Parse<TcpPlatformKind>(kind)).TryGetRawOption(Enum.Parse<TcpOption>(option), AddressFamily.InterNetwork, out var actualLevel, out var actualName));
        Assert.Equal((level, name), (actualLevel, actualName));
    }

    [Theory]
    [InlineData("Linux", 41, 67)]
    [InlineData("MacOS", 41, 36)]
    [InlineData("FreeBsd", 41, 61)]
    public void TryGetRawOption_TypeOfServiceOnIPv6_UsesTrafficClass(string kind, int level, int name)
    {
        Assert.True(new TcpPlatform(Enum.Parse<TcpPlatformKind>(kind)).TryGetRawOption(TcpOption.TypeOfService, AddressFamily.InterNetworkV6, out var actualLevel, out var actualName));
        Assert.Equal((level, name), (actualLevel, actualName));
    }

    [Theory]
    [InlineData("Linux", "Tcp", "TCP_MAXSEG", 6, 2)]
    [InlineData("Linux", "Socket", "SO_BUSY_POLL", 1, 46)]
    [InlineData("Linux", "Socket", "SO_PRIORITY", 1, 12)]
    [InlineData("Linux", "IPv6", "IPV6_TCLASS", 41, 67)]
    [InlineData("MacOS", "Socket", "SO_SNDBUF", 0xffff, 0x1001)]
    [InlineData("FreeBsd", "IP", "IP_TOS", 0, 3)]
    [InlineData("Windows", "Tcp", "TCP_MAXSEG", 6, 4)]
    [InlineData("Linux", "17", "99", 17, 99)]
    public void RawOptionNames_NamesAndNumbers_PlatformNumbers(string kind, string level, string name, int levelNumber, int nameNumber)
    {
        var platform = Enum.Parse<TcpPlatformKind>(kind);

        Assert.True(RawOptionNames.TryGetLevel(platform, level, out var actualLevel));
        Assert.True(RawOptionNames.TryGetName(platform, actualLevel, name, out var actualName));
        Assert.Equal((levelNumber, nameNumber), (actualLevel, actualName));
    }

    [Theory]
    [InlineData("Linux", true, 6, 11)] // TCP_INFO
    [InlineData("MacOS", true, 6, 0x106)] // TCP_CONNECTION_INFO
    [InlineData("Windows", false, 0, 0)] // an ioctl instead
    [InlineData("FreeBsd", false, 0, 0)]
    public void TryGetTcpInfoOption_LinuxAndMacOS(string kind, bool available, int level, int name)
    {
        var found = new TcpPlatform(Enum.Parse<TcpPlatformKind>(kind)).TryGetTcpInfoOption(out var actualLevel, out var actualName);

        Assert.Equal(available, found);
        if (available)
        {
            Assert.Equal((level, name), (actualLevel, actualName));
        }
    }

    [Theory]
    [InlineData("Windows", true)]
    [InlineData("Linux", false)]
    [InlineData("MacOS", false)]
    public void TryGetTcpInfoIoControl_WindowsSioTcpInfo(string kind, bool available)
    {
        var found = new TcpPlatform(Enum.Parse<TcpPlatformKind>(kind)).TryGetTcpInfoIoControl(out var code);

        Assert.Equal(available, found);
        Assert.Equal(available ? unchecked((int)0xD8000027) : 0, code);
    }

    [Theory]
    [InlineData("Windows", "Cork")]
    [InlineData("Windows", "QuickAck")]
    [InlineData("MacOS", "CongestionControl")]
    [InlineData("MacOS", "Cork")]
    [InlineData("FreeBsd", "Cork")]
    [InlineData("FreeBsd", "UserTimeout")]
    public void TryGetRawOption_OptionThePlatformLacks_False(string kind, string option)
    {
        var platform = new TcpPlatform(Enum.Parse<TcpPlatformKind>(kind));

        Assert.False(platform.Supports(Enum.Parse<TcpOption>(option)));
        Assert.False(platform.TryGetRawOption(Enum.Parse<TcpOption>(option), AddressFamily.InterNetwork, out _, out _));
    }
}
