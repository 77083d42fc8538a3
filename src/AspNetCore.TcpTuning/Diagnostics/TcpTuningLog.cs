using System.Net;
using Microsoft.Extensions.Logging;

namespace AspNetCore.TcpTuning.Diagnostics;

internal static partial class TcpTuningLog
{
    [LoggerMessage(1, LogLevel.Warning, "{Key} is not supported on {Platform}; it is skipped for endpoint {EndPoint}.", EventName = "OptionNotSupported")]
    public static partial void OptionNotSupported(ILogger logger, string key, string platform, EndPoint endPoint);

    [LoggerMessage(2, LogLevel.Debug, "Setting {Key} on connection {ConnectionId} failed with {Error}; the connection proceeds without it.", EventName = "SocketOptionFailed")]
    public static partial void SocketOptionFailed(ILogger logger, string key, string connectionId, string error);

    [LoggerMessage(3, LogLevel.Warning, "Setting {Key} on the listen socket {EndPoint} failed with {Error}; the endpoint listens without it.", EventName = "ListenSocketOptionFailed")]
    public static partial void ListenSocketOptionFailed(ILogger logger, string key, EndPoint endPoint, string error);

    [LoggerMessage(4, LogLevel.Warning, "Kestrel endpoints {Names} all bind {EndPoint}, and this bind cannot be told apart (they have all bound once already); the settings of {Chosen} apply. Give each named endpoint its own address.", EventName = "AmbiguousEndpoint")]
    public static partial void AmbiguousEndpoint(ILogger logger, EndPoint endPoint, string names, string chosen);

    [LoggerMessage(5, LogLevel.Information, "Endpoint {EndPoint} uses the TCP settings of {Source}: {Profile}; skipped: [{SkippedOptions}].", EventName = "EndpointBound")]
    public static partial void EndpointBound(ILogger logger, EndPoint endPoint, string source, string profile, string skippedOptions);

    [LoggerMessage(6, LogLevel.Warning, "{Key} applies to TCP endpoints only; the endpoint binds {Url}, so it is skipped (Strict makes this an error).", EventName = "OptionNotForTcpEndpoint")]
    public static partial void OptionNotForTcpEndpoint(ILogger logger, string key, string url);

    [LoggerMessage(7, LogLevel.Warning, "{Key} has no effect: net.ipv4.tcp_fastopen is {FastOpen}, without the server bit (2); set it to 3 or remove the key (Strict makes this an error).", EventName = "FastOpenIgnoredByKernel")]
    public static partial void FastOpenIgnoredByKernel(ILogger logger, string key, int fastOpen);

    [LoggerMessage(8, LogLevel.Error, "The reloaded TcpTuning configuration is invalid and was not applied; new connections keep the last valid settings. {Errors}", EventName = "ReloadRejected")]
    public static partial void ReloadRejected(ILogger logger, string errors);

    [LoggerMessage(9, LogLevel.Information, "TcpTuning settings reloaded: new connections of {Endpoint} get {Profile} (they had {Previous}).", EventName = "EndpointProfileChanged")]
    public static partial void EndpointProfileChanged(ILogger logger, string endpoint, string profile, string previous);

    [LoggerMessage(10, LogLevel.Warning, "{Count} request(s) on endpoint {Endpoint} waited for a delayed ACK, {DelayMilliseconds} ms each on average: their clients send a request in more than one write with Nagle's algorithm on, and wait for this server's ACK before they send the rest. {Fix} Next warning for this endpoint in a minute at the earliest.", EventName = "DelayedAckStalls")]
    public static partial void DelayedAckStalls(ILogger logger, string endpoint, int count, double delayMilliseconds, string fix);
}
