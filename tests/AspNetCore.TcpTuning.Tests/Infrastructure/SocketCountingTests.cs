namespace AspNetCore.TcpTuning.Tests.Infrastructure;

/// <summary>
/// Tests that count segments or measure stalls run alone: parallel tests would load both cores and change how
/// Kestrel's send loop merges writes.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SocketCountingTests
{
    public const string Name = "Socket counting";
}
