package api

import "github.com/rolecall/rolecall/store"

// The names below are the store's, re-exported because clients of the API
// (the dashboard) must not import the store. Callers must not modify the
// lists.

// Connection strategies the API accepts on POST /connections.
const (
	StrategyOkta         = store.StrategyOkta
	StrategyEntraID      = store.StrategyEntraID
	StrategySAML         = store.StrategySAML
	StrategyOIDC         = store.StrategyOIDC
	StrategyGoogle       = store.StrategyGoogle
	StrategyADFS         = store.StrategyADFS
	StrategyPingFederate = store.StrategyPingFederate
	StrategySCIM         = store.StrategySCIM
)

// Strategies lists every strategy the API accepts.
var Strategies = store.Strategies

// SCIMTokenScopes are the scopes a SCIM token can hold; a new token holds
// all of them unless its creator narrows them.
var SCIMTokenScopes = store.SCIMTokenScopes

// EventTypes are the audit event types GET /logs may filter on, sorted.
var EventTypes = store.EventTypes
