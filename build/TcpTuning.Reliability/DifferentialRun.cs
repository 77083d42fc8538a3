using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using TcpTuning.Reliability.Wire;

namespace TcpTuning.Reliability;

/// <summary>One script's outcome on one configuration and protocol, as a client saw it.</summary>
internal sealed record Difference(ResponseScript Script, string Protocol, string Configuration, string Bare, string Tuned);

/// <summary>What a differential run found, per configuration and protocol.</summary>
internal sealed class DifferentialResult
{
    public ConcurrentDictionary<(string Configuration, string Protocol), int> Cases { get; } = new();

    public ConcurrentDictionary<(string Configuration, string Protocol), int> Differences { get; } = new();

    public ConcurrentDictionary<string, int> BareSelfDifferences { get; } = new();

    /// <summary>Kestrel's own hang (a Content-Length body ending in unflushed advanced bytes) that the policy completes.</summary>
    public ConcurrentDictionary<(string Configuration, string Protocol), int> BareHangsTunedCompletes { get; } = new();

    /// <summary>
    /// Responses cut short (the handler failed, aborted or overran its Content-Length) whose body, in both, is a prefix
    /// of what the handler wrote, with the same status, headers, framing and connection end, but cut at another byte.
    /// </summary>
    public ConcurrentDictionary<(string Configuration, string Protocol), int> CutElsewhere { get; } = new();

    /// <summary>Of <see cref="CutElsewhere"/>: body bytes the client got, tuned minus bare, summed when negative.</summary>
    public ConcurrentBag<long> CutShortfalls { get; } = [];

    public ConcurrentBag<Difference> Examples { get; } = [];

    public int Total => Cases.Values.Sum();

    public int TotalDifferences => Differences.Values.Sum();
}

/// <summary>
/// Serves each seeded script from bare Kestrel (twice: its own run-to-run differences are left out) and from each tuned
/// configuration, over HTTP/1.1, HTTPS and HTTP/2 in turn, and compares what the client decoded.
/// </summary>
internal static class DifferentialRun
{
    private static readonly string[] s_protocols = ["http1", "https1", "h2"];

    // How long a response may go quiet before the client takes it as hung (Kestrel's own hang on an unflushed
    // Content-Length tail needs a limit). Long enough that a loaded two-core machine running the test suite beside the
    // server does not pass for a hang: at 500 ms, one comparison in a few hundred did, PerWrite included.
    private static readonly TimeSpan s_idle = TimeSpan.FromSeconds(2);

    public static async Task<DifferentialResult> RunAsync(ReliabilityServer server, int firstSeed, int cases, int parallelism, CancellationToken cancellationToken)
    {
        var result = new DifferentialResult();
        using var h2 = CreateHttp2Client();
        await Parallel.ForEachAsync(Enumerable.Range(firstSeed, cases), new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (seed, _) =>
        {
            var script = ResponseScript.Generate(seed);
            var protocol = s_protocols[seed % s_protocols.Length];
            var bare = Normalize(script, await ExchangeAsync(server.Bare, protocol, script, h2));
            var bareAgain = Normalize(script, await ExchangeAsync(server.Bare, protocol, script, h2));
            if (bare != bareAgain)
            {
                result.BareSelfDifferences.AddOrUpdate(protocol, 1, (_, n) => n + 1);
                return;
            }

            foreach (var configuration in ReliabilityServer.TunedConfigurations)
            {
                var tuned = Normalize(script, await ExchangeAsync(server.Get(configuration), protocol, script, h2));
                result.Cases.AddOrUpdate((configuration, protocol), 1, (_, n) => n + 1);
                if (tuned != bare)
                {
                    // Bare may differ from itself on a third try where the tuned one differed: look again before counting.
                    var bareThird = Normalize(script, await ExchangeAsync(server.Bare, protocol, script, h2));
                    if (bareThird == tuned)
                    {
                        result.BareSelfDifferences.AddOrUpdate(protocol, 1, (_, n) => n + 1);
                        continue;
                    }

                    if (IsKestrelHangCompleted(script, bare, tuned))
                    {
                        result.BareHangsTunedCompletes.AddOrUpdate((configuration, protocol), 1, (_, n) => n + 1);
                        continue;
                    }

                    if (IsCutElsewhere(bare, tuned, out var shortfall))
                    {
                        result.CutElsewhere.AddOrUpdate((configuration, protocol), 1, (_, n) => n + 1);
                        result.CutShortfalls.Add(shortfall);
                        continue;
                    }

                    result.Differences.AddOrUpdate((configuration, protocol), 1, (_, n) => n + 1);
                    result.Examples.Add(new Difference(script, protocol, configuration, bare, tuned));
                }
            }
        });

        return result;
    }

    // An aborted response is cut where the abort finds it, which depends on how far the send loop got (bare Kestrel's
    // own runs differ, down to whether the last bytes beat the reset): only its status and headers are compared.
    private static string Normalize(ResponseScript script, string description)
        => script.Ending == "abort" ? string.Join(" | ", description.Split('\n')[0].Split(" | ").Take(2)) + " | (aborted)" : description;

    // Kestrel does not flush a Content-Length body whose last bytes were advanced and never flushed (the handler
    // returns, or calls CompleteAsync): the client waits for them until the next response's flush. The policy flushes at the message's end. Same status and headers,
    // bare incomplete and idle, tuned complete: that is the one difference allowed, and it is counted on its own.
    private static bool IsKestrelHangCompleted(ResponseScript script, string bare, string tuned)
    {
        var lastWrite = script.Steps.LastOrDefault(s => s.Size > 0 && s.Kind is not (StepKind.Delay or StepKind.ReadBody));
        if (script.LengthMode != "right" || script.Ending is not ("return" or "complete") || lastWrite?.Kind != StepKind.AdvanceOnly)
        {
            return false;
        }

        var bareFirst = bare.Split('\n')[0].Split(" | ");
        var tunedFirst = tuned.Split('\n')[0].Split(" | ");
        return bare.Contains("then 0 bytes, idle", StringComparison.Ordinal)
            && bareFirst.Length == 5 && tunedFirst.Length == 5
            && bareFirst[0] == tunedFirst[0] && bareFirst[1] == tunedFirst[1]
            && bareFirst[3] == "incomplete" && tunedFirst[3] == "complete";
    }

    // Both cut short, both bodies prefixes of what the handler wrote, everything else equal: only the byte where the
    // cut fell differs. Kestrel's own cut moves with how far its send loop got and with how the app's spans were sized.
    private static bool IsCutElsewhere(string bare, string tuned, out long shortfall)
    {
        shortfall = 0;
        var bareFirst = bare.Split('\n')[0].Split(" | ");
        var tunedFirst = tuned.Split('\n')[0].Split(" | ");
        if (bareFirst.Length != 5 || tunedFirst.Length != 5 || bareFirst[3] != "incomplete" || tunedFirst[3] != "incomplete"
            || !bareFirst[4].EndsWith(PrefixMark, StringComparison.Ordinal) || !tunedFirst[4].EndsWith(PrefixMark, StringComparison.Ordinal)
            || !bareFirst.AsSpan(0, 3).SequenceEqual(tunedFirst.AsSpan(0, 3))
            || bare.Split('\n')[^1] != tuned.Split('\n')[^1])
        {
            return false;
        }

        shortfall = long.Parse(tunedFirst[4].Split(' ')[0], CultureInfo.InvariantCulture) - long.Parse(bareFirst[4].Split(' ')[0], CultureInfo.InvariantCulture);
        return true;
    }

    private const string PrefixMark = " (a prefix)";

    public static async Task<string> ExchangeAsync(Target target, string protocol, ResponseScript script, HttpClient h2)
    {
        var path = string.Create(CultureInfo.InvariantCulture, $"/script?seed={script.Seed}");
        var body = script.Method == "POST" ? new byte[script.RequestBodyLength] : null;
        if (protocol == "h2")
        {
            return await ExchangeHttp2Async(h2, new Uri(target.Http2, path), script.Method, body);
        }

        await using var connection = await RawHttpConnection.ConnectAsync(protocol == "http1" ? target.Http : target.Https);
        var head = script.Method == "HEAD";
        await connection.SendAsync(script.Method, path, body);
        var first = await connection.ReadResponseAsync(head, s_idle, TimeSpan.FromSeconds(15));
        var description = Http11ResponseReader.Describe(first, head);
        if (first.Ending != "whole")
        {
            return MarkPrefix(description, first, head, script);
        }

        // The connection stayed open: the next response on it must be untouched by this one.
        try
        {
            await connection.SendGetAsync("/ok");
        }
        catch (IOException)
        {
            return description + "\nnext: send failed";
        }

        var next = await connection.ReadResponseAsync(headRequest: false, s_idle, TimeSpan.FromSeconds(15));
        return description + "\nnext: " + Http11ResponseReader.Describe(next);
    }

    // A response cut short: whether its body is a prefix of what the handler wrote (nothing wrong, nothing reordered).
    private static string MarkPrefix(string description, RawTranscript transcript, bool head, ResponseScript script)
    {
        if (!Http11ResponseReader.TryDecode(transcript.Bytes, head, transcript.Ending == "closed", out var response, out _) || response.Complete)
        {
            return description;
        }

        var intended = script.IntendedBody();
        var prefix = response.Body.Length <= intended.Length && intended.AsSpan(0, response.Body.Length).SequenceEqual(response.Body);
        if (!prefix)
        {
            return description;
        }

        var lines = description.Split('\n');
        lines[0] += PrefixMark;
        return string.Join('\n', lines);
    }

    private static async Task<string> ExchangeHttp2Async(HttpClient client, Uri uri, string method, byte[]? body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), uri) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
        }

        try
        {
            using var response = await client.SendAsync(request);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            var headers = response.Headers.Concat(response.Content.Headers)
                .Where(h => !h.Key.Equals("Date", StringComparison.OrdinalIgnoreCase))
                .Select(h => $"{h.Key}: {string.Join(",", h.Value)}")
                .Order(StringComparer.OrdinalIgnoreCase);
            return $"{(int)response.StatusCode} | {string.Join("; ", headers)} | {bytes.Length} bytes {Convert.ToHexString(SHA256.HashData(bytes))[..16]}";
        }
        catch (HttpRequestException ex)
        {
            return $"error {ex.HttpRequestError} {ex.InnerException?.GetType().Name}";
        }
        catch (TaskCanceledException)
        {
            return "error timeout";
        }
    }

    private static HttpClient CreateHttp2Client() => new(new SocketsHttpHandler
    {
        SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == TestCertificate.Instance.GetCertHashString() },
        EnableMultipleHttp2Connections = true,
    })
    { Timeout = TimeSpan.FromSeconds(15) };
}
