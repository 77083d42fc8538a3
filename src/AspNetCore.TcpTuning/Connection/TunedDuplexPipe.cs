using System.IO.Pipelines;

namespace AspNetCore.TcpTuning.Connection;

/// <summary>A connection's transport with its input and output observed by the connection layer.</summary>
internal sealed class TunedDuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
{
    public PipeReader Input { get; } = input;

    public PipeWriter Output { get; } = output;
}
