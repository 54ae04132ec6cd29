// Package model holds the GraphQL shapes that exist only in the API
// (connections, inputs, payloads); domain types are bound in gqlgen.yml.
package model

// Node is anything node(id:) can answer: the domain types bound to GraphQL
// types that implement the Node interface (*auth.User, *voice.Voice,
// *generation.Generation, *billing.Plan). It is empty so domain packages need
// no GraphQL methods.
type Node any
