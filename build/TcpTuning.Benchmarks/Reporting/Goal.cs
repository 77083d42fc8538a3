namespace TcpTuning.Benchmarks.Reporting;

/// <summary>A goal of the report's goal table: its verdict is computed from the same medians its rows show.</summary>
/// <param name="Area">The feature the goal is about.</param>
/// <param name="Text">What must hold.</param>
/// <param name="Measured">What the run measured, as the table shows it.</param>
/// <param name="Met">Whether it holds.</param>
internal sealed record Goal(string Area, string Text, string Measured, bool Met);
