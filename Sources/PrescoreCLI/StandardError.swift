import Foundation

/// Prints a line to standard error, where problems go so that standard output stays data.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
