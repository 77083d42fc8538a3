using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using AspNetCore.TcpTuning;
using AspNetCore.TcpTuning.Configuration;
using AspNetCore.TcpTuning.Connection;
using AspNetCore.TcpTuning.Diagnostics;
using AspNetCore.TcpTuning.Platform;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace TcpTuning.Microbenchmarks;

/// <summary>
/// What the connection layer's reader adds to one keep-alive request: the request arrives whole, is read and examined to
/// its end, and a response is written (as Kestrel's parser and output do), through the pipe's own reader (the baseline)
/// or through <see cref="QuickAckPipeReader"/> with <c>Adaptive</c>, without and with the delayed-ACK stall detector.
/// The socket is never connected: a request that arrives whole re-arms nothing, so no option is set.
/// </summary>
[MemoryDiagnoser]
public class QuickAckReaderBenchmarks : IDisposable
{
    private static readonly byte[] s_request = "GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n"u8.ToArray();

    private readonly Pipe _pipe = new(new PipeOptions(useSynchronizationContext: false));
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private ServiceProvider _services = null!;
    private PipeReader _reader = null!;
    private QuickAckController? _controller;

    [Params("pipe", "Adaptive", "Adaptive + DetectStalls")]
    public string Reader { get; set; } = "pipe";

    [GlobalSetup]
    public void Setup()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new TcpTuningMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        var platform = TcpPlatform.Current;
        var stalls = Reader == "Adaptive + DetectStalls"
            ? new DelayedAckStallReporter.Registry(metrics, NullLogger<DelayedAckStallReporter>.Instance, TimeProvider.System, platform)
                .For(EffectiveTcpProfile.Create(new TcpProfile(), overrides: null, "Api", "TcpTuning:Endpoints:Api", platform, transportNoDelay: true))
            : null;
        _controller = Reader == "pipe"
            ? null
            : new QuickAckController(_socket, QuickAckMode.Adaptive, new SocketOptionWriter(platform), metrics, "Api", stalls, TimeProvider.System, platform);
        _reader = _controller is null ? _pipe.Reader : new QuickAckPipeReader(_pipe.Reader, _controller);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _socket.Dispose();
        _services?.Dispose();
        GC.SuppressFinalize(this);
    }

    [Benchmark]
    public long ReadRequest()
    {
        _pipe.Writer.Write(s_request);
        var flush = _pipe.Writer.FlushAsync();
        if (!flush.IsCompletedSuccessfully)
        {
            flush.AsTask().GetAwaiter().GetResult();
        }

        var read = _reader.ReadAsync();
        var result = read.IsCompletedSuccessfully ? read.Result : read.AsTask().GetAwaiter().GetResult();
        var length = result.Buffer.Length;
        _reader.AdvanceTo(result.Buffer.End);

        // The response: what the connection's output tells the controller.
        _controller?.OnWrite();
        return length;
    }
}
