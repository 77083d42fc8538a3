using System.Diagnostics;

namespace TcpTuning.Benchmarks;

/// <summary>What the run's network namespaces share: `ip` commands, and this benchmark's subcommands run inside one.</summary>
internal static class NetworkNamespace
{
    /// <summary>Runs `ip` with <paramref name="arguments"/>; null when it succeeded, else its error.</summary>
    public static string? Ip(string[] arguments)
    {
        try
        {
            var info = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            using var process = Process.Start(info)!;
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? null : error.Trim();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return ex.Message;
        }
    }

    /// <summary>Runs this benchmark's <paramref name="subcommand"/> inside namespace <paramref name="name"/> and returns its output.</summary>
    public static async Task<string> RunAsync(string name, string subcommand, string arguments, TimeSpan timeout)
    {
        var self = typeof(NetworkNamespace).Assembly.Location;
        using var process = Process.Start(new ProcessStartInfo("ip", $"netns exec {name} dotnet \"{self}\" {subcommand} {arguments}") { RedirectStandardOutput = true, RedirectStandardError = true })!;
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            var error = process.StandardError.ReadToEndAsync(cancel.Token);
            var output = process.StandardOutput.ReadToEndAsync(cancel.Token);
            await process.WaitForExitAsync(cancel.Token);
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"`{subcommand} {arguments}` in {name} failed: {await error}");
            }

            return (await output).Trim();
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"`{subcommand} {arguments}` in {name} ran longer than {timeout}.");
        }
    }
}
