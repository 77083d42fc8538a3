using System.Diagnostics;
using System.Net.Sockets;

namespace TcpTuning.Benchmarks;

/// <summary>
/// nginx (Debian's package) serving the Cork scenarios' bytes from files with <c>sendfile on; tcp_nopush on;
/// tcp_nodelay on;</c>, on the veth address beside the Kestrel endpoints: the reference the issue compares against.
/// </summary>
internal sealed class NginxServer : IAsyncDisposable
{
    public const int Port = 18095;
    public const string Name = "nginx 1.22 (sendfile, tcp_nopush, tcp_nodelay)";

    private static readonly string[] s_binaries = ["/usr/sbin/nginx", "/usr/bin/nginx"];

    private readonly Process _process;
    private readonly string _directory;

    private NginxServer(Process process, string directory)
    {
        _process = process;
        _directory = directory;
    }

    /// <summary>Starts nginx with one file per path, each as many bytes as <paramref name="bodies"/> says; null when nginx is missing.</summary>
    public static async Task<NginxServer?> TryStartAsync(IReadOnlyDictionary<string, int> bodies)
    {
        var binary = s_binaries.FirstOrDefault(File.Exists);
        if (binary is null)
        {
            return null;
        }

        var directory = Directory.CreateTempSubdirectory("tcptuning-nginx").FullName;
        var www = Directory.CreateDirectory(Path.Combine(directory, "www")).FullName;
        foreach (var (path, size) in bodies)
        {
            await File.WriteAllBytesAsync(Path.Combine(www, path.TrimStart('/')), Enumerable.Repeat((byte)'y', size).ToArray());
        }

        var config = Path.Combine(directory, "nginx.conf");
        await File.WriteAllTextAsync(config, $$"""
            daemon off;
            master_process off;
            worker_processes 1;
            pid {{directory}}/nginx.pid;
            error_log {{directory}}/error.log;
            events { worker_connections 256; }
            http {
                access_log off;
                sendfile on;
                tcp_nopush on;
                tcp_nodelay on;
                keepalive_requests 1000000;
                default_type application/octet-stream;
                client_body_temp_path {{directory}}/body;
                proxy_temp_path {{directory}}/proxy;
                fastcgi_temp_path {{directory}}/fastcgi;
                uwsgi_temp_path {{directory}}/uwsgi;
                scgi_temp_path {{directory}}/scgi;
                server {
                    listen {{BenchEndpoints.VethHost}}:{{Port}};
                    root {{www}};
                }
            }
            """);
        var process = Process.Start(new ProcessStartInfo(binary, $"-c {config} -p {directory}") { RedirectStandardError = true })!;

        // Ready when it accepts a connection; bounded.
        for (var attempt = 0; attempt < 50; attempt++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(BenchEndpoints.VethHost, Port);
                return new NginxServer(process, directory);
            }
            catch (SocketException) when (!process.HasExited)
            {
                await Task.Delay(100);
            }
        }

        var error = process.HasExited ? await process.StandardError.ReadToEndAsync() : "no answer after 5 s";
        process.Kill();
        throw new InvalidOperationException($"nginx did not start: {error}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
