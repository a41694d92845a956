import { describe, expect, it } from 'vitest';
import {
  defaultExtras,
  deriveCertificateStores,
  deriveMetadataFields,
  listRecords,
  MetadataDataType,
  stableGuid,
} from '#shared/simulator/extras';
import { InvalidParameterError, normaliseListParams } from '#shared/simulator/paging';
import { syntheticCertificate } from '#shared/simulator/synthetic';
import { compileCertificateFilter } from '#shared/query/index';

const params = (query: string) => normaliseListParams(new URLSearchParams(query));

describe('deriveMetadataFields', () => {
  it('lists every metadata name once, ordered by name, with a DataType inferred from the values', () => {
    const certs = Array.from({ length: 20 }, (_, i) =>
      syntheticCertificate(i + 1, {
        Metadata: {
          Retired: i % 2 ? 'True' : 'False',
          Owner: `owner${i}@example.com`,
          Cost: String(100 + i),
          Review: '2026-02-01',
          Environment: ['Prod', 'Dev'][i % 2]!,
          Notes: `free text ${i}`,
        },
      }),
    );
    const fields = deriveMetadataFields(certs);
    expect(fields.map((f) => [f.Name, f.DataType])).toEqual([
      ['Cost', MetadataDataType.Integer],
      ['Environment', MetadataDataType.MultipleChoice],
      ['Notes', MetadataDataType.String],
      ['Owner', MetadataDataType.Email],
      ['Retired', MetadataDataType.Boolean],
      ['Review', MetadataDataType.Date],
    ]);
    expect(fields.find((f) => f.Name === 'Environment')?.Options).toBe('Dev,Prod');
    expect(fields.map((f) => f.Id)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('returns nothing for an inventory without metadata', () => {
    expect(deriveMetadataFields([syntheticCertificate(1, { Metadata: {} })])).toEqual([]);
  });
});

describe('deriveCertificateStores', () => {
  it('makes one store per distinct location with a stable GUID', () => {
    const location = { StoreMachine: 'web1', StorePath: '/etc/a.pem', StoreType: 2 };
    const certs = [
      syntheticCertificate(1, { Locations: [location] }),
      syntheticCertificate(2, { Locations: [location, { ...location, StorePath: '/etc/b.pem' }] }),
      syntheticCertificate(3, { Locations: [{ ...location, CertStoreId: 'given-id' }] }),
    ];
    const stores = deriveCertificateStores(certs);
    expect(stores.map((s) => [s.ClientMachine, s.StorePath])).toEqual([
      ['web1', '/etc/a.pem'],
      ['web1', '/etc/b.pem'],
      ['web1', '/etc/a.pem'],
    ]);
    expect(stores[2]?.Id).toBe('given-id');
    expect(stores[0]?.Id).toBe(deriveCertificateStores(certs)[0]?.Id);
    expect(stores[0]?.Id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(typeof stores[0]?.Properties).toBe('string');
  });

  it('derives GUIDs from names only', () => {
    expect(stableGuid('x')).toBe(stableGuid('x'));
    expect(stableGuid('x')).not.toBe(stableGuid('y'));
  });
});

describe('listRecords', () => {
  const collections = defaultExtras().collections;

  it('filters with the query grammar on any top-level field', () => {
    const { page, total } = listRecords(collections, params('QueryString=Name%20-contains%20%22revoked%22'), {
      defaultSortField: 'Id',
    });
    expect(page.map((c) => c.Id)).toEqual([3]);
    expect(total).toBe(1);
    const favourites = listRecords(
      collections,
      params('pq.queryString=Favorite%20-eq%20true%20OR%20Id%20-eq%201'),
      {
        defaultSortField: 'Id',
      },
    );
    expect(favourites.page.map((c) => c.Id)).toEqual([1, 2]);
  });

  it('sorts, pages, and counts the whole result', () => {
    const { page, total } = listRecords(
      collections,
      params('SortField=Name&SortAscending=1&ReturnLimit=2&PageReturned=2'),
      {
        defaultSortField: 'Id',
      },
    );
    expect(total).toBe(3);
    expect(page.map((c) => c.Name)).toEqual(['Active Certificates']);
  });

  it('rejects unknown fields in the query and in SortField', () => {
    expect(() =>
      listRecords(collections, params('QueryString=Colour%20-eq%20%22x%22'), { defaultSortField: 'Id' }),
    ).toThrow(InvalidParameterError);
    expect(() => listRecords(collections, params('SortField=Colour'), { defaultSortField: 'Id' })).toThrow(
      InvalidParameterError,
    );
  });
});

describe('defaultExtras', () => {
  it('ships collection queries the query language accepts', () => {
    for (const collection of defaultExtras().collections) {
      expect(() => compileCertificateFilter(collection.Content)).not.toThrow();
    }
  });
});
