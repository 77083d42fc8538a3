// Starts on the named endpoint of appsettings.json, serves one request and checks, with getsockopt on the server's
// socket, that the endpoint's keep-alive idle time was set. Exit code 0 when it was.
using System.Net.Sockets;
using AspNetCore.TcpTuning;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

var builder = WebApplication.CreateBuilder(args);
builder.WebHost.UseTcpTuning();
var app = builder.Build();
app.MapGet("/", (HttpContext context) =>
{
    var socket = context.Features.Get<IConnectionSocketFeature>()!.Socket;
    var idle = (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime)!;
    return $"{context.Features.Get<ITcpTuningFeature>()?.EndpointName} {idle}";
});
await app.StartAsync();

var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
var answer = await client.GetStringAsync(address);
await app.StopAsync();

Console.WriteLine($"{address} answered: {answer}");
return answer == "Api 31" ? 0 : 1;
