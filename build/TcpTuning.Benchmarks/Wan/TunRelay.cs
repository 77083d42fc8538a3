using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace TcpTuning.Benchmarks.Wan;

/// <summary>
/// The emulated wire between two TUN devices: every IP packet read from one is written to the other after a fixed
/// one-way delay, unless it is dropped (a seeded fraction). This kernel has no netem, so the delay and the loss live
/// here, in user space. Order is kept (one delay for all); there is no bandwidth limit.
/// </summary>
internal sealed partial class TunRelay : IDisposable
{
    private const int MaxPacket = 65536;
    private readonly Direction _outbound;
    private readonly Direction _inbound;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread[] _threads;
    private readonly Lock _settingsLock = new();
    private long _delayTicks;
    private double _loss;
    private Random _random = new(1);

    /// <param name="hostFd">The TUN device on the server's side (packets from the server).</param>
    /// <param name="namespaceFd">The TUN device moved into the client's namespace (packets from the client).</param>
    public TunRelay(int hostFd, int namespaceFd)
    {
        _outbound = new Direction(hostFd, namespaceFd);
        _inbound = new Direction(namespaceFd, hostFd);
        _threads =
        [
            new Thread(() => Read(_outbound)) { IsBackground = true, Name = "wan read (server)" },
            new Thread(() => Read(_inbound)) { IsBackground = true, Name = "wan read (client)" },
            new Thread(() => Deliver(_outbound)) { IsBackground = true, Name = "wan deliver (to client)" },
            new Thread(() => Deliver(_inbound)) { IsBackground = true, Name = "wan deliver (to server)" },
        ];
        foreach (var thread in _threads)
        {
            thread.Start();
        }
    }

    /// <summary>Packets dropped and relayed since the last <see cref="Configure"/>.</summary>
    public (long Dropped, long Relayed) Counts => (Interlocked.Read(ref _outbound.Dropped) + Interlocked.Read(ref _inbound.Dropped), Interlocked.Read(ref _outbound.Relayed) + Interlocked.Read(ref _inbound.Relayed));

    /// <summary>How late packets left the relay past their due time, in milliseconds: the median and the 99th percentile.</summary>
    public (double P50, double P99) Lateness()
    {
        var ticks = _outbound.Lateness().Concat(_inbound.Lateness()).Order().ToArray();
        if (ticks.Length == 0)
        {
            return (double.NaN, double.NaN);
        }

        double Milliseconds(long value) => value * 1000.0 / System.Diagnostics.Stopwatch.Frequency;
        return (Milliseconds(ticks[ticks.Length / 2]), Milliseconds(ticks[Math.Min(ticks.Length - 1, (int)(ticks.Length * 0.99))]));
    }

    /// <summary>
    /// Sets the wire: <paramref name="roundTrip"/> split evenly between the two directions, <paramref name="loss"/> of
    /// the packets dropped in each. The drop sequence restarts from <paramref name="seed"/>, so every configuration
    /// measured after a call meets the same sequence of drop decisions.
    /// </summary>
    public void Configure(TimeSpan roundTrip, double loss, int seed)
    {
        lock (_settingsLock)
        {
            _delayTicks = (long)(roundTrip.TotalSeconds / 2 * System.Diagnostics.Stopwatch.Frequency);
            _loss = loss;
            _random = new Random(seed);
            _outbound.Dropped = _outbound.Relayed = _inbound.Dropped = _inbound.Relayed = 0;
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _outbound.Ready.Set();
        _inbound.Ready.Set();
        foreach (var thread in _threads)
        {
            thread.Join(TimeSpan.FromSeconds(2));
        }

        _outbound.Dispose();
        _inbound.Dispose();
        _stop.Dispose();
    }

    private void Read(Direction direction)
    {
        var buffer = new byte[MaxPacket];
        while (!_stop.IsCancellationRequested)
        {
            // poll with a timeout: a read blocked in the kernel would not see the stop.
            var fds = new PollFd { Fd = direction.From, Events = PollIn };
            if (Poll(ref fds, 1, 100) <= 0 || (fds.Revents & PollIn) == 0)
            {
                continue;
            }

            var read = ReadFd(direction.From, buffer, buffer.Length);
            if (read <= 0)
            {
                continue;
            }

            long due;
            lock (_settingsLock)
            {
                if (_loss > 0 && _random.NextDouble() < _loss)
                {
                    Interlocked.Increment(ref direction.Dropped);
                    continue;
                }

                due = System.Diagnostics.Stopwatch.GetTimestamp() + _delayTicks;
            }

            direction.Queue.Enqueue((due, buffer.AsSpan(0, (int)read).ToArray()));
            direction.Ready.Set();
        }
    }

    private void Deliver(Direction direction)
    {
        while (!_stop.IsCancellationRequested)
        {
            if (!direction.Queue.TryPeek(out var next))
            {
                direction.Ready.Wait(100);
                direction.Ready.Reset();
                continue;
            }

            SleepUntil(next.Due);
            if (direction.Queue.TryDequeue(out var packet))
            {
                WriteFd(direction.To, packet.Packet, packet.Packet.Length);
                Interlocked.Increment(ref direction.Relayed);
                direction.RecordLateness(System.Diagnostics.Stopwatch.GetTimestamp() - packet.Due);
            }
        }
    }

    // clock_nanosleep to an absolute CLOCK_MONOTONIC time: tens of microseconds late, where Thread.Sleep is a millisecond.
    private static void SleepUntil(long stopwatchTimestamp)
    {
        var remaining = stopwatchTimestamp - System.Diagnostics.Stopwatch.GetTimestamp();
        if (remaining <= 0)
        {
            return;
        }

        ClockGetTime(ClockMonotonic, out var now);
        var nanoseconds = now.Seconds * 1_000_000_000L + now.Nanoseconds + remaining * 1_000_000_000L / System.Diagnostics.Stopwatch.Frequency;
        var until = new TimeSpec { Seconds = nanoseconds / 1_000_000_000L, Nanoseconds = nanoseconds % 1_000_000_000L };
        ClockNanosleep(ClockMonotonic, TimerAbsoluteTime, ref until, 0);
    }

    private sealed class Direction(int from, int to) : IDisposable
    {
        public readonly int From = from;
        public readonly int To = to;
        public readonly ConcurrentQueue<(long Due, byte[] Packet)> Queue = new();
        public readonly ManualResetEventSlim Ready = new();
        public long Dropped;
        public long Relayed;
        private readonly List<long> _lateness = [];

        // How late each packet left, for the report's claim about the relay's own delay (one writer: this direction's).
        public void RecordLateness(long ticks)
        {
            lock (_lateness)
            {
                if (_lateness.Count < 1_000_000)
                {
                    _lateness.Add(ticks);
                }
            }
        }

        public long[] Lateness()
        {
            lock (_lateness)
            {
                return [.. _lateness];
            }
        }

        public void Dispose() => Ready.Dispose();
    }

    private const short PollIn = 1;
    private const int ClockMonotonic = 1;
    private const int TimerAbsoluteTime = 1;

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(ref PollFd fds, ulong count, int timeoutMilliseconds);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint ReadFd(int fd, byte[] buffer, nint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint WriteFd(int fd, byte[] buffer, nint count);

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    [LibraryImport("libc", EntryPoint = "clock_nanosleep")]
    private static partial int ClockNanosleep(int clock, int flags, ref TimeSpec request, nint remaining);
}
