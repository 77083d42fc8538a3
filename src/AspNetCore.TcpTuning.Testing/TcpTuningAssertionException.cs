namespace AspNetCore.TcpTuning.Testing;

/// <summary>A wire-behaviour assertion of <see cref="TcpTuningAssertions"/> failed; test frameworks report it as a failure.</summary>
public sealed class TcpTuningAssertionException : Exception
{
    /// <summary>Creates the exception with its message.</summary>
    /// <param name="message">What was expected and what was measured.</param>
    public TcpTuningAssertionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public TcpTuningAssertionException()
    {
    }

    /// <summary>Creates the exception with its message and cause.</summary>
    /// <param name="message">What was expected and what was measured.</param>
    /// <param name="innerException">The cause.</param>
    public TcpTuningAssertionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
