package store

// ChangeKind names what a Change is about.
type ChangeKind uint8

// Change kinds. Observers (in-memory indexes) react to these instead of
// re-reading the store; each mutation method emits the changes it makes.
const (
	UserCreated ChangeKind = iota + 1
	UserUpdated
	UserDeleted
	GroupCreated
	GroupUpdated
	GroupDeleted
	MemberAdded   // GroupID gained member MemberID
	MemberRemoved // GroupID lost member MemberID
	ConnectionDeleted
)

// Change is one committed change, as seen by observers.
type Change struct {
	Kind         ChangeKind
	ConnectionID string
	UserID       string // UserCreated/Updated/Deleted
	GroupID      string // Group*, Member*
	MemberID     string // Member*: a user or group id
	Active       bool   // UserCreated/Updated: the user's active flag after the change
	Name         string // GroupCreated/Updated: displayName after the change
}
