namespace AspNetCore.TcpTuning.Platform;

/// <summary>The operating-system families whose TCP stacks differ in the options they offer.</summary>
internal enum TcpPlatformKind
{
    Linux,
    MacOS,
    FreeBsd,
    Windows,
    Other,
}
