package streams

// RefuseNonGlobal is the dial-time address check, for unit tests.
var RefuseNonGlobal = refuseNonGlobal
