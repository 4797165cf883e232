"""Payment methods as plugins: one abstract provider, one registry, one
package per method. Adding a method touches its package and the registry."""
