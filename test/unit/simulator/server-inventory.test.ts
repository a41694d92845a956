import { describe, expect, it } from 'vitest';
import { InputError } from '#shared/errors';
import { SimulatorInventory, UnknownCertificateError } from '#shared/simulator/inventory';
import { syntheticCertificate } from '#shared/simulator/synthetic';

const NOW = new Date('2026-06-01T12:00:00.123Z');

function inventoryOf(...ids: number[]) {
  return new SimulatorInventory({ certificates: ids.map((id) => syntheticCertificate(id)), now: () => NOW });
}

describe('SimulatorInventory', () => {
  it('lists in Id order whatever the insertion order', () => {
    const inventory = inventoryOf(5, 2, 9);
    inventory.add([syntheticCertificate(3)]);
    expect(inventory.list().map((c) => c.Id)).toEqual([2, 3, 5, 9]);
  });

  it('keeps given Ids and refuses a duplicate instead of overwriting', () => {
    const inventory = inventoryOf(1, 2);
    expect(() => inventory.add([syntheticCertificate(2)])).toThrow(InputError);
    expect(inventory.size).toBe(2);
  });

  it('assigns the next Ids and ImportDate = now on addNew, after the highest Id ever seen', () => {
    const inventory = inventoryOf(1, 7);
    inventory.delete(7);
    const { Id: _id, ImportDate: _date, ...partial } = syntheticCertificate(100);
    const created = inventory.addNew([partial, partial]);
    expect(created.map((c) => c.Id)).toEqual([8, 9]);
    expect(created[0]?.ImportDate).toBe('2026-06-01T12:00:00.123Z');
    expect(inventory.get(9)?.IssuedCN).toBe('host100.example.com');
  });

  it('bumps the version on every mutation and not on reads', () => {
    const inventory = inventoryOf(1, 2, 3);
    const versions = [inventory.version];
    inventory.list();
    inventory.get(1);
    versions.push(inventory.version);
    inventory.updateMetadata(1, { Owner: 'x' });
    versions.push(inventory.version);
    inventory.setLocations(2, []);
    versions.push(inventory.version);
    inventory.revoke(3);
    versions.push(inventory.version);
    inventory.delete(3);
    versions.push(inventory.version);
    inventory.addNew([syntheticCertificate(50)]);
    versions.push(inventory.version);
    expect(versions).toEqual([1, 1, 2, 3, 4, 5, 6]);
  });

  it('revokes the way Command reports it', () => {
    const inventory = inventoryOf(1);
    const revoked = inventory.revoke(1, { reason: 1, comment: 'key leaked' });
    expect(revoked).toMatchObject({
      CertState: 2,
      CertStateString: 'Revoked (2)',
      RevocationEffDate: '2026-06-01T12:00:00Z',
      RevocationReason: 1,
      RevocationComment: 'key leaked',
    });
    expect(inventory.revoke(1, { date: new Date('2026-01-02T03:04:05Z') }).RevocationEffDate).toBe(
      '2026-01-02T03:04:05Z',
    );
  });

  it('merges metadata patches and removes fields set to null', () => {
    const inventory = new SimulatorInventory({
      certificates: [syntheticCertificate(1, { Metadata: { Owner: 'a', Retired: 'False' } })],
    });
    const updated = inventory.updateMetadata(1, { Retired: 'True', Owner: null, Team: 'pki' });
    expect(updated.Metadata).toEqual({ Retired: 'True', Team: 'pki' });
  });

  it('recomputes LocationsCount with the locations', () => {
    const inventory = inventoryOf(1);
    const updated = inventory.setLocations(1, [
      { StoreMachine: 'a', StorePath: '/x', StoreType: 2 },
      { StoreMachine: 'b', StorePath: '/y', StoreType: 2 },
      { StoreMachine: 'c', StorePath: 'IIS Personal', StoreType: 3 },
    ]);
    expect(updated.LocationsCount).toEqual([
      { Type: 'PEM', Count: 2 },
      { Type: 'IIS', Count: 1 },
    ]);
  });

  it('replaces objects on mutation instead of editing them, so identity-keyed caches go stale safely', () => {
    const inventory = inventoryOf(1, 2);
    const before = inventory.get(1);
    const listed = inventory.list()[0];
    inventory.updateMetadata(1, { Owner: 'new' });
    expect(inventory.get(1)).not.toBe(before);
    expect(before?.Metadata).toEqual({ Owner: 'team1@example.com' });
    expect(listed).toBe(before);
    expect(inventory.list()[0]?.Metadata).toEqual({ Owner: 'new' });
  });

  it('reports unknown Ids', () => {
    const inventory = inventoryOf(1);
    expect(() => inventory.revoke(42)).toThrow(UnknownCertificateError);
    expect(() => inventory.updateMetadata(42, {})).toThrow(/42/);
    expect(inventory.delete(42)).toBe(false);
  });
});
