// Package repl is pirun's interactive session (`pirun repl`): it reads
// chunks of Starlark from a terminal or a pipe, runs them with the client
// API of package api, and understands IPython-style magics (%px,
// %autopx, %pxresult, %engines…). Its chunk and magic core is shared with
// the Jupyter kernel.
package repl
