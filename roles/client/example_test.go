package client_test

import (
	"context"
	"fmt"
	"log"

	"github.com/rolecall/rolecall/roles/client"
)

// A login server asks for a user's roles at sign-in, reading its own writes.
func Example() {
	ctx := context.Background()
	c := client.New("https://rolecall.example.com", "API_KEY")

	role, _, err := c.CreateRole(ctx, client.RoleCreate{Name: "editor"})
	if client.IsConflict(err) {
		log.Fatal("a role named editor exists already")
	} else if err != nil {
		log.Fatal(err)
	}
	if _, err := c.BindGroups(ctx, role.ID, "grp_engineering"); err != nil {
		log.Fatal(err)
	}
	ans, err := c.Query(ctx, client.QueryRequest{
		Subjects:    []client.Subject{{ConnectionID: "con_okta", UserName: "alice@example.com"}},
		MinRevision: c.LastRevision(), // the binding above is in the answer
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ans.Results[0].Claims.Roles)
}

// Walking a listing: pages are fetched as the loop needs them.
func ExampleClient_Roles() {
	c := client.New("https://rolecall.example.com", "API_KEY")
	for role, err := range c.Roles(context.Background(), client.ListOptions{Take: 100}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(role.Name)
	}
}

// A Resolver caches answers per subject in a login server.
func ExampleResolver() {
	c := client.New("https://rolecall.example.com", "API_KEY")
	r := client.NewResolver(c, client.ResolverOptions{Include: []string{client.IncludeClaims}})
	res, err := r.Resolve(context.Background(), client.Subject{UserID: "usr_123", OrganizationID: "org_acme"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Claims.Roles, res.Claims.Permissions)
}
