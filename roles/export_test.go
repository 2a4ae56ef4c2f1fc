package roles

// AppendJSONString exposes appendJSONString to the external tests.
var AppendJSONString = appendJSONString
