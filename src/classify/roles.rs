//! The roles of the hosts: from the inventory, or inferred from the ports a
//! host is seen serving.
//!
//! Owns: [`Hosts`], one [`Host`] per address that holds a role or that the
//! inventory names (its roles as given, as a [`RoleSet`], and expanded with
//! the roles they imply), and the wildcard rule: without an inventory, a
//! host whose role is unknown may be anything.

use std::net::IpAddr;

use rustc_hash::FxHashMap;

use super::conversation::Conversation;
use crate::catalog::{CatalogSet, Os, RoleSet, Scope};
use crate::inventory::Inventory;

/// What is known about one host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    pub address: IpAddr,
    pub name: Option<String>,
    pub os: Option<Os>,
    /// As the inventory (or inference) gives them; implied roles not listed.
    pub roles: RoleSet,
    /// With every implied role.
    pub expanded: RoleSet,
    pub inferred: bool,
}

/// A host's index in [`Hosts`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HostId(u32);

/// The hosts of an analysis that hold a role or that the inventory describes.
#[derive(Clone, Debug, Default)]
pub struct Hosts {
    hosts: Vec<Host>,
    by_address: FxHashMap<IpAddr, u32>,
    /// An inventory was given (without one, unknown hosts are wildcards).
    with_inventory: bool,
    /// The features the inventory enables: (catalog, feature) names.
    features: Vec<(String, String)>,
}

/// Is this a connection within one host (same address, or loopback to loopback)?
pub fn is_same_host(a: IpAddr, b: IpAddr) -> bool {
    a == b || (a.is_loopback() && b.is_loopback())
}

impl Hosts {
    /// The hosts of these conversations: from the inventory, or inferred.
    ///
    /// Inference: a host that served a port (established, reset or answered)
    /// of a network rule holds all that rule's server roles; only the roles
    /// no other of its roles implies are listed.
    pub fn build<'c>(
        catalogs: &CatalogSet,
        inventory: Option<&Inventory>,
        conversations: impl Iterator<Item = &'c Conversation> + Clone,
    ) -> Hosts {
        let mut hosts = Vec::new();
        match inventory {
            Some(inv) => {
                let mut addresses: Vec<IpAddr> = conversations
                    .flat_map(|c| [c.key.client, c.key.server])
                    .collect();
                addresses.sort_unstable();
                addresses.dedup();
                for addr in addresses {
                    if let Some(info) = inv.lookup(addr) {
                        let roles = catalogs.role_set(&info.roles);
                        hosts.push(Host {
                            address: addr,
                            name: info.name,
                            os: info.os,
                            roles,
                            expanded: catalogs.expand(roles),
                            inferred: false,
                        });
                    }
                }
            }
            None => {
                // The server roles each port proves, once per port.
                let mut proves: FxHashMap<(crate::decode::Transport, u16), RoleSet> =
                    FxHashMap::default();
                let mut inferred: FxHashMap<IpAddr, RoleSet> = FxHashMap::default();
                for conv in conversations {
                    if conv.served() == 0 || is_same_host(conv.key.client, conv.key.server) {
                        continue;
                    }
                    let port = (conv.key.transport, conv.key.server_port);
                    // A shared port (SSH, SMB, ...) proves nothing: other
                    // software serves it too.
                    let roles = *proves.entry(port).or_insert_with(|| {
                        if catalogs.rules_for(port.1, port.0).any(|r| r.shared) {
                            return RoleSet::EMPTY;
                        }
                        catalogs
                            .rules_for(port.1, port.0)
                            .filter(|r| r.scope == Scope::Network && r.companion.is_none())
                            .fold(RoleSet::EMPTY, |acc, r| acc.union(r.server_set))
                    });
                    if !roles.is_empty() {
                        let set = inferred.entry(conv.key.server).or_default();
                        *set = set.union(roles);
                    }
                }
                let mut inferred: Vec<(IpAddr, RoleSet)> = inferred.into_iter().collect();
                inferred.sort_unstable_by_key(|(addr, _)| *addr);
                for (addr, roles) in inferred {
                    // List only the roles no other listed role implies.
                    let listed: RoleSet = roles
                        .iter()
                        .filter(|r| {
                            !roles.iter().any(|o| {
                                o != *r
                                    && catalogs.expand(std::iter::once(o).collect()).contains(*r)
                            })
                        })
                        .collect();
                    hosts.push(Host {
                        address: addr,
                        name: None,
                        os: None,
                        roles: listed,
                        expanded: catalogs.expand(listed),
                        inferred: true,
                    });
                }
            }
        }
        hosts.retain(|h| !h.roles.is_empty() || h.name.is_some() || h.os.is_some());
        let by_address = hosts
            .iter()
            .enumerate()
            .map(|(i, h)| (h.address, i as u32))
            .collect();
        let features = inventory
            .map(|inv| {
                inv.features
                    .iter()
                    .flat_map(|(c, fs)| fs.iter().map(move |f| (c.clone(), f.clone())))
                    .collect()
            })
            .unwrap_or_default();
        Hosts {
            hosts,
            by_address,
            with_inventory: inventory.is_some(),
            features,
        }
    }

    pub fn get(&self, addr: IpAddr) -> Option<&Host> {
        self.id(addr).map(|id| self.host(id))
    }

    /// The id of the host with this address, if it is known.
    pub fn id(&self, addr: IpAddr) -> Option<HostId> {
        self.by_address.get(&addr).map(|&i| HostId(i))
    }

    pub fn host(&self, id: HostId) -> &Host {
        &self.hosts[id.0 as usize]
    }

    /// The roles of a host as given, by id (empty for none).
    pub fn roles_of(&self, id: Option<HostId>) -> RoleSet {
        id.map_or(RoleSet::EMPTY, |id| self.host(id).roles)
    }

    /// Does the host hold (or may it hold) one of `roles`? Without an
    /// inventory, a host with no known role may be anything.
    pub fn holds_any(&self, id: Option<HostId>, roles: RoleSet) -> bool {
        let expanded = id.map_or(RoleSet::EMPTY, |id| self.host(id).expanded);
        (!self.with_inventory && expanded.is_empty()) || expanded.intersects(roles)
    }

    /// Does the host really hold one of `roles` (by the inventory, or
    /// inferred)? Unlike [`Hosts::holds_any`], a host with no known role does not.
    pub fn shows_any(&self, id: Option<HostId>, roles: RoleSet) -> bool {
        id.is_some_and(|id| self.host(id).expanded.intersects(roles))
    }

    /// Were the roles given by an inventory (not inferred)?
    pub fn from_inventory(&self) -> bool {
        self.with_inventory
    }

    /// The OS of a host, by id.
    pub fn os_of(&self, id: Option<HostId>) -> Option<Os> {
        id.and_then(|id| self.host(id).os)
    }

    /// Does the inventory enable this feature of this catalog?
    pub fn feature(&self, catalog: &str, feature: &str) -> bool {
        self.features
            .iter()
            .any(|(c, f)| c == catalog && f == feature)
    }

    /// The hosts that hold a role, by address (as reports list them).
    pub fn with_roles(&self) -> impl Iterator<Item = &Host> {
        self.hosts.iter().filter(|h| !h.roles.is_empty())
    }
}
