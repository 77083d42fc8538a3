using AspNetCore.TcpTuning.Diagnostics;
using System.IO.Pipelines;
using AspNetCore.TcpTuning;
using AspNetCore.TcpTuning.Configuration;
using AspNetCore.TcpTuning.Connection;
using AspNetCore.TcpTuning.Http;
using AspNetCore.TcpTuning.Platform;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace TcpTuning.Microbenchmarks;

/// <summary>
/// What the flush middleware and the message-boundary writer add to one HTTP/1.1 request, on a reused
/// <see cref="DefaultHttpContext"/> over features laid out as Kestrel's are (<see cref="ServerLikeFeatures"/>, with
/// <see cref="ServerLikeResponseHeaders"/>) whose server body discards what it is given: the handler alone (the
/// baseline) against the handler behind the middleware, for a plaintext response (13 bytes, Content-Length, one body
/// write), the same written as <c>Results.Text</c> writes it (text: the response started first, then
/// GetSpan/Advance/FlushAsync), a chatty one (64 writes of 100 bytes, chunked) and the chatty one after an await
/// (chatty-async: the writes take the writer's lock, as a handler's that awaits between its writes do).
/// </summary>
[MemoryDiagnoser]
public class FlushMiddlewareBenchmarks : IDisposable
{
    private static readonly byte[] s_hello = "Hello, World!"u8.ToArray();
    private static readonly byte[] s_piece = new byte[100];

    private readonly FeatureCollection _connectionFeatures = new();
    private readonly ServerLikeFeatures _features;
    private readonly DefaultHttpContext _context;
    private readonly DiscardingServerBody _server = new();
    private RequestDelegate _handler = null!;
    private RequestDelegate _tuned = null!;
    private RequestDelegate _swapped = null!;
    private TaskCompletionSource? _resumed;
    private bool _resumedWrites;
    private ServiceProvider _services = null!;
    private HeldResponseSweeper _sweeper = null!;

    public FlushMiddlewareBenchmarks()
    {
        _features = new ServerLikeFeatures(_connectionFeatures);
        _context = new DefaultHttpContext(_features);
    }

    [Params(ResponseFlushMode.PerWrite, ResponseFlushMode.MessageBoundary)]
    public ResponseFlushMode Mode { get; set; }

    [Params("plaintext", "text", "chatty", "chatty-async", "chatty-resumed")]
    public string Response { get; set; } = "plaintext";

    [GlobalSetup]
    public void Setup()
    {
        _resumedWrites = Response == "chatty-resumed";
        _handler = Response switch
        {
            "plaintext" => PlaintextAsync,
            "text" => TextAsync,
            "chatty-async" => ChattyAfterYieldAsync,
            "chatty-resumed" => _ => _resumed!.Task,
            _ => ChattyAsync,
        };
        _services = new ServiceCollection().BuildServiceProvider();
        _sweeper = new HeldResponseSweeper(TimeProvider.System);
        var state = new TcpTuningOptionsState(
            Options.Create(new TcpTuningOptions()),
            new OptionsFactory<TcpTuningOptions>([], []),
            new ConfigurationBuilder().Build(),
            NullLogger<TcpTuningOptionsState>.Instance);
        _tuned = new ResponseFlushMiddleware(_handler, state, TimeProvider.System, _sweeper, new RouteFlushOverrides(_services), new TcpTuningMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>())).Invoke;

        _swapped = new ForwardingSwap(_handler).Invoke;

        var profile = EffectiveTcpProfile.Create(new TcpProfile { ResponseFlush = Mode }, overrides: null, "Api", "TcpTuning:Endpoints:Api", TcpPlatform.Current, transportNoDelay: true);
        // What Kestrel's request always has.
        _context.Features.Set<IHttpRequestFeature>(new HttpRequestFeature());
        _context.Features.Set<IHttpRequestLifetimeFeature>(new HttpRequestLifetimeFeature());
        _context.Features.Set<IHttpRequestBodyDetectionFeature>(new RequestBodyDetection());
        _context.Features.Set<IHttpUpgradeFeature>(new NoUpgrade());
        _context.Request.Protocol = HttpProtocol.Http11;
        // On the connection's collection, as Kestrel's transport has it: the request's falls back to it.
        _connectionFeatures.Set<ITcpTuningFeature>(new TcpTuningConnectionFeature(profile, [], [], quickAck: null, connectionFeatures: _connectionFeatures));
        _context.Features.Set<IHttpResponseFeature>(_server);
        _context.Features.Set<IHttpResponseBodyFeature>(_server);

        // The request body as Kestrel gives it: a stream and a pipe reader of its own, made once per connection
        // (DefaultHttpContext would otherwise wrap the stream in a new reader whenever the body stream is replaced).
        var requestBody = new Pipe().Reader;
        _context.Features.Set<IRequestBodyPipeFeature>(new RequestBodyPipe(requestBody));
        _context.Request.Body = requestBody.AsStream();
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _sweeper?.Dispose();
        _services?.Dispose();
        GC.SuppressFinalize(this);
    }

    [Benchmark(Baseline = true)]
    public Task Handler()
    {
        NextRequest();
        return Run(_handler);
    }

    [Benchmark]
    public Task HandlerBehindMiddleware()
    {
        NextRequest();
        return Run(_tuned);
    }

    /// <summary>
    /// The handler behind a middleware that only swaps in a response-body feature forwarding every call to the server's,
    /// and swaps it back: what any per-request swap costs (the feature set twice, the context's cache fetched again).
    /// </summary>
    [Benchmark]
    public Task HandlerBehindFeatureSwap()
    {
        NextRequest();
        return Run(_swapped);
    }

    private Task Run(RequestDelegate pipeline)
    {
        if (!_resumedWrites)
        {
            return pipeline(_context);
        }

        // The handler has gone asynchronous (it waits for _resumed) when its 64 writes come, on this thread: what each
        // write costs after an await, without the thread pool's hops that make most of the chatty-async rows.
        _resumed = new TaskCompletionSource();
        var response = pipeline(_context);
        var body = _context.Response.Body;
        for (var i = 0; i < 64; i++)
        {
            var write = body.WriteAsync(s_piece);
            if (!write.IsCompletedSuccessfully)
            {
                throw new InvalidOperationException("A write did not complete at once.");
            }
        }

        _resumed.SetResult();
        return response;
    }

    // As Kestrel begins each request: its collection's revision moves and the context starts with no feature cached, so
    // every method fetches the features it uses, as a request on a server does.
    private void NextRequest()
    {
        _server.Reset();
        _features.Reset();
        _context.Uninitialize();
        _context.Initialize(_features);
    }

    private static Task PlaintextAsync(HttpContext context)
    {
        context.Response.ContentLength = s_hello.Length;
        return context.Response.Body.WriteAsync(s_hello).AsTask();
    }

    // What Results.Text does: a Content-Length, then HttpResponse.WriteAsync(string), which starts the response and
    // writes through GetSpan/Advance/FlushAsync.
    private static Task TextAsync(HttpContext context)
    {
        context.Response.ContentLength = s_hello.Length;
        return context.Response.WriteAsync("Hello, World!");
    }

    private static async Task ChattyAsync(HttpContext context)
    {
        for (var i = 0; i < 64; i++)
        {
            await context.Response.Body.WriteAsync(s_piece);
        }
    }

    // The same writes after the handler went asynchronous: from then on each write takes the writer's lock and the
    // delay timer watches the held bytes (what a handler that awaits between writes pays per write).
    private static async Task ChattyAfterYieldAsync(HttpContext context)
    {
        await Task.Yield();
        for (var i = 0; i < 64; i++)
        {
            await context.Response.Body.WriteAsync(s_piece);
        }
    }

    private sealed class RequestBodyDetection : IHttpRequestBodyDetectionFeature
    {
        public bool CanHaveBody => false;
    }

    private sealed class ForwardingSwap(RequestDelegate next)
    {
        private readonly Forwarder _forwarder = new();

        public Task Invoke(HttpContext context)
        {
            // The collection's indexer, as the library uses it: Get<T> and Set<T> are generic interface calls, dearer.
            var features = context.Features;
            var server = (IHttpResponseBodyFeature)features[typeof(IHttpResponseBodyFeature)]!;
            _forwarder.Inner = server;
            features[typeof(IHttpResponseBodyFeature)] = _forwarder;
            var handler = next(context);
            if (handler.IsCompletedSuccessfully)
            {
                features[typeof(IHttpResponseBodyFeature)] = server;
                return Task.CompletedTask;
            }

            return AwaitAsync(context, server, handler);

            static async Task AwaitAsync(HttpContext context, IHttpResponseBodyFeature server, Task handler)
            {
                try
                {
                    await handler.ConfigureAwait(false);
                }
                finally
                {
                    context.Features[typeof(IHttpResponseBodyFeature)] = server;
                }
            }
        }

        private sealed class Forwarder : IHttpResponseBodyFeature
        {
            public IHttpResponseBodyFeature Inner { get; set; } = null!;

            public Stream Stream => Inner.Stream;

            public PipeWriter Writer => Inner.Writer;

            public Task CompleteAsync() => Inner.CompleteAsync();

            public void DisableBuffering() => Inner.DisableBuffering();

            public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) => Inner.SendFileAsync(path, offset, count, cancellationToken);

            public Task StartAsync(CancellationToken cancellationToken = default) => Inner.StartAsync(cancellationToken);
        }
    }

    private sealed class NoUpgrade : IHttpUpgradeFeature
    {
        public bool IsUpgradableRequest => false;

        public Task<Stream> UpgradeAsync() => throw new NotSupportedException();
    }

    private sealed class RequestBodyPipe(PipeReader reader) : IRequestBodyPipeFeature
    {
        public PipeReader Reader { get; } = reader;
    }

    /// <summary>The server's response and body: starts on the first write or flush, discards the bytes.</summary>
    private sealed class DiscardingServerBody : PipeWriter, IHttpResponseFeature, IHttpResponseBodyFeature
    {
        private readonly byte[] _buffer = new byte[8192];
        private readonly Stream _stream;

        public DiscardingServerBody() => _stream = AsStream();

        public int StatusCode { get; set; } = 200;

        public string? ReasonPhrase { get; set; }

        public IHeaderDictionary Headers { get; set; } = new ServerLikeResponseHeaders();

        public Stream Body { get; set; } = Stream.Null;

        public bool HasStarted { get; private set; }

        Stream IHttpResponseBodyFeature.Stream => _stream;

        PipeWriter IHttpResponseBodyFeature.Writer => this;

        public void Reset()
        {
            HasStarted = false;
            Headers.Clear();
        }

        public void OnStarting(Func<object, Task> callback, object state)
        {
        }

        public void OnCompleted(Func<object, Task> callback, object state)
        {
        }

        public void DisableBuffering()
        {
        }

        public Task StartAsync(CancellationToken cancellationToken = default)
        {
            HasStarted = true;
            return Task.CompletedTask;
        }

        public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task CompleteAsync() => Task.CompletedTask;

        public override void Advance(int bytes) => HasStarted = true;

        public override Memory<byte> GetMemory(int sizeHint = 0) => _buffer;

        public override Span<byte> GetSpan(int sizeHint = 0) => _buffer;

        public override void CancelPendingFlush()
        {
        }

        public override void Complete(Exception? exception = null)
        {
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            HasStarted = true;
            return default;
        }

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            HasStarted = true;
            return default;
        }
    }
}
